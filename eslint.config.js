// ESLint flat config: typescript-eslint, plus the import directions between our layers.
import tseslint from 'typescript-eslint';

// Import directions (dependencies point one way): bin composes; gateway and
// rest-compat depend on kernel; rest-compat may use what the gateway exports for it; the gateway
// never imports rest-compat; neither imports subgraph code; kernel imports nothing of ours.
// Patterns match any depth of `../` so files in sub-folders are held to the same rules.
const up = '^(\\.\\./)+';
const noRestSubgraphs = { regex: `${up}subgraphs(/|$)`, message: 'rest-compat never imports subgraphs; it runs named operations on the gateway.' };
const noCli = { regex: `${up}bin(/|$)`, message: 'Runtime code does not import the CLI; bin/ composes.' };
const noSubgraphCode = {
  // A router's type is how another layer may refer to a subgraph's API (tRPC clients).
  regex: `${up}subgraphs/(?![^/]+/router\\.ts$)`,
  message: 'Only the composition root (bin/) and tests import subgraph code; elsewhere `import type` of a router.ts.',
};
// typescript-eslint lets a type import through when any allowTypeImports pattern matches it, so
// this one matches router.ts alone.
const routerTypesOnly = { regex: `${up}subgraphs/[^/]+/router\\.ts$`, message: 'Subgraph routers are imported with `import type` only.', allowTypeImports: true };
const kernelOnly = (withTests) => ({
  regex: `${up}(gateway|subgraphs|rest-compat|schema|bin|bench${withTests ? '' : '|test'})(/|$)`,
  message: 'kernel imports nothing else from the project.',
});

export default tseslint.config(
  // subgraphs/*/schema.types.ts: resolver types generated from each subgraph's SDL (schema/codegen.ts).
  { ignores: ['node_modules/**', '.data/**', 'scratch/**', 'coverage/**', 'dist/**', '.dist-test-*/**', 'subgraphs/*/schema.types.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['kernel/**/*.ts'],
    ignores: ['kernel/**/*.test.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [kernelOnly(false)] }] },
  },
  {
    // kernel's tests may use the shared test helpers (fake servers), nothing else of ours.
    files: ['kernel/**/*.test.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [kernelOnly(true)] }] },
  },
  {
    files: ['gateway/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { regex: `${up}rest-compat(/|$)`, message: 'The gateway never imports rest-compat: the composition root mounts it as a plugin (gateway/plugin.ts).' },
          noSubgraphCode,
          routerTypesOnly,
          noCli,
        ],
      }],
    },
  },
  {
    files: ['rest-compat/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [noRestSubgraphs, noCli],
      }],
    },
  },
  {
    // A REST area (rest-compat/areas/<area>/) is self-contained: its routes, response definitions
    // and operations sit in its folder, and it uses the layer's shared parts, never another area.
    files: ['rest-compat/areas/*/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          noRestSubgraphs,
          noCli,
          { regex: '^\\.\\./(?!\\.\\./)', message: 'An area imports nothing from another area (nor the area table); shared pieces go in rest-compat/.' },
        ],
      }],
    },
  },
  {
    files: ['subgraphs/*/**/*.ts'],
    ignores: ['subgraphs/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          // Another subgraph: only `import type` from its router.ts (the tRPC router type).
          { regex: '^\\.\\./(?!\\.\\.)[^/]+/(?!router\\.ts$)', message: 'Another subgraph is imported only through `import type` from its router.ts.' },
          { regex: '^\\.\\./(?!\\.\\.)[^/]+/router\\.ts$', message: 'Another subgraph\'s router is imported with `import type` only.', allowTypeImports: true },
          { regex: '^\\.\\./\\.\\./(gateway|rest-compat|bin|test|bench|schema)(/|$)', message: 'Subgraphs import only kernel (and types of other routers).' },
        ],
      }],
    },
  },
  {
    // Subgraph tests may use the shared test helpers too.
    files: ['subgraphs/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./\\.\\./(gateway|rest-compat|bin)(/|$)', message: 'Subgraphs import only kernel (and types of other routers).' }],
      }],
    },
  },
);
