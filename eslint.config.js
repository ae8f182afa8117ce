// ESLint flat config: typescript-eslint, plus the import directions of CONVENTIONS.md.
import tseslint from 'typescript-eslint';

const subgraphValueImport = {
  // From a subgraph, another subgraph may only be imported as a type (its router type).
  regex: '^\\.\\./(?!\\.\\.)[^/]+/',
  message: 'Subgraphs import each other only with `import type` (tRPC router types).',
  allowTypeImports: true,
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', 'scratch/**', 'coverage/**'] },
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
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./(gateway|subgraphs|rest-compat|schema|bin|test|bench)(/|$)', message: 'kernel imports nothing else from the project.' }],
      }],
    },
  },
  {
    files: ['gateway/**/*.ts', 'rest-compat/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          { regex: '^\\.\\./subgraphs/', message: 'The gateway and rest-compat never import subgraph code (types of routers only).', allowTypeImports: true },
          { regex: '^\\.\\./bin/', message: 'Runtime code does not import the CLI.' },
        ],
      }],
    },
  },
  {
    files: ['subgraphs/*/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [
          subgraphValueImport,
          { regex: '^\\.\\./\\.\\./(gateway|rest-compat|bin)(/|$)', message: 'Subgraphs import only kernel (and types of other routers).' },
        ],
      }],
    },
  },
);
