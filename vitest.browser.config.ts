import { defineConfig } from 'vitest/config';

// The browser suite (`npm run test:browser`): Debian's chromium driven by playwright-core against
// the whole stack on port 0. Kept out of the default project, which needs no browser.
// graphql is pinned to its CommonJS build as in vitest.config.ts (one copy, like production).
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    name: 'browser',
    include: ['test/browser/**/*.browser.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
