import { defineConfig } from 'vitest/config';

// Two projects: `default` runs against embedded PGlite and in-memory PubSub (a fresh machine has
// nothing else); `services` runs the same suites plus the multi-process topology tests against the
// real PostgreSQL and Redis named by DATABASE_URL / REDIS_URL.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'default',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', '**/*.services.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'services',
          include: ['test/**/*.e2e.test.ts', '**/*.services.test.ts'],
          exclude: ['node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          fileParallelism: false,
          env: {
            XENTREE_TEST_SERVICES: '1',
          },
        },
      },
    ],
  },
});
