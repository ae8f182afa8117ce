import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects: `default` runs against embedded PGlite and in-memory PubSub (a fresh machine has
// nothing else); `services` runs the same suites plus the multi-process topology tests against the
// real PostgreSQL and Redis named by DATABASE_URL / REDIS_URL.

// One module registry per worker, not per file: importing the stack (fastify, Apollo, graphql,
// MikroORM…) again for every file was most of the suites' time (the default suite's imports took
// 311 s of 600). Every file starts its own stacks and ports and restores what it changes (the
// PGlite template folder, spies, fake timers), so nothing a file needs is left over from another.
const isolate = false;

// graphql ships CommonJS (`main`) and ESM (`module`) builds. Node (and tsx) always load the
// CommonJS one, but vite would give our sources the ESM one while dependencies loaded by Node
// (graphql-ws, Apollo, federation) get CommonJS: two realms whose `instanceof` checks fail. Pin
// the CommonJS build so tests run the same single copy as production.
const singleGraphql = { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] };

export default defineConfig({
  test: {
    // Vitest's default, one worker fewer than the CPUs, is a single worker on two: the suites wait
    // on sockets and timers much of the time, and two files at once take about 3/4 of the time of
    // one after the other there. Set here rather than in the projects so that `--maxWorkers` on
    // the command line still decides (CI: 1 for the run beside the services suite). The services
    // project runs its files one at a time whatever this says.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        resolve: singleGraphql,
        test: {
          name: 'default',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', '**/*.services.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          isolate,
        },
      },
      {
        resolve: singleGraphql,
        test: {
          name: 'services',
          include: ['test/**/*.e2e.test.ts', '**/*.services.test.ts'],
          exclude: ['node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          isolate,
          fileParallelism: false,
          env: {
            XENTREE_TEST_SERVICES: '1',
          },
        },
      },
    ],
  },
});
