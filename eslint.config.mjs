// Lint setup: typescript-eslint with type information, so that floating promises are caught.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Node's own modules, with and without `node:`, for the rule that keeps them out of the webview.
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
// Only the VS Code extension (src/extension/) may import the editor API.
const noEditorApi = {
  patterns: [
    {
      group: ['vscode', 'vscode/*'],
      message: 'Only the VS Code extension (src/extension/) imports vscode; this folder also runs outside the editor.',
    },
  ],
};
// The products beside the extension (CLI, adapter, capture, sweeper, testing, language server) never import it.
const noExtension = {
  regex: '^(\\.\\./)+(src/)?extension(/|$)',
  message: 'Only the extension imports src/extension/; it depends on this folder, not the other way round.',
};

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'media/dist/**',
      '.vscode-test/**',
      '.leak-lens/**',
      'demo/**',
      'test/fixtures/apps/**',
      'bin/**',
      'scripts/**',
      'eslint.config.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain CommonJS scripts (benchmark generators, fixture apps) run in Node.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The assertNoLeak examples run under mocha and jest, which provide their test functions as globals.
    files: ['test/fixtures/runners/mocha.spec.js'],
    languageOptions: { globals: globals.mocha },
  },
  {
    files: ['test/fixtures/runners/jest.test.js'],
    languageOptions: { globals: globals.jest },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The webview bundle runs in a browser; heap strings reach the DOM only as text, never as HTML.
    files: ['media/**/*.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({
          property,
          message: 'Render heap data with textContent or the h() helper, never as HTML.',
        })),
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='write'][callee.object.name='document']",
          message: 'No document.write in the webview.',
        },
      ],
    },
  },
  // Boundaries (ARCHITECTURE.md, "Invariants"): editor hosts -> protocol <- engine/capture. Each block below gives the
  // whole list for its folder, since a later no-restricted-imports replaces an earlier one. test/unit/boundaries.test.ts
  // lints a bad import in each folder to prove the rules bite.
  {
    // Only the VS Code extension (src/extension/) and its tests import the editor API; everything else also runs
    // outside the editor (CLI, adapter, language server, capture library, engine worker, webview).
    files: ['**/*.ts'],
    ignores: ['src/extension/**', 'test/vscode/**'],
    rules: { 'no-restricted-imports': ['error', noEditorApi] },
  },
  {
    // The products beside the extension never import it: the extension depends on them, not the other way round.
    files: [
      'server/**/*.ts',
      'src/capture/**/*.ts',
      'src/cli/**/*.ts',
      'src/adapter/**/*.ts',
      'src/sweeper/**/*.ts',
      'src/testing/**/*.ts',
    ],
    rules: { 'no-restricted-imports': ['error', { patterns: [...noEditorApi.patterns, noExtension] }] },
  },
  {
    // The engine runs in plain Node, workers, the language server and the CLI: no editor API, no editor host.
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...noEditorApi.patterns,
            { group: ['vscode-*'], message: 'The engine runs outside the editor.' },
            {
              regex: '^(\\.\\./)+(src|server|media|render)(/|$)',
              message: 'The engine imports only protocol/ and its own modules.',
            },
          ],
        },
      ],
    },
  },
  {
    // The contracts are the ground floor: types and import-free helpers that every side includes, the webview too.
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'protocol/ is included by the webview: no Node modules.',
          })),
          patterns: [
            ...noEditorApi.patterns,
            { regex: '^\\.\\./', message: 'protocol/ imports nothing from the project but other contracts (./).' },
          ],
        },
      ],
    },
  },
  {
    // The renderers turn the report into words for the CLI, the language server, the markdown and the webview alike:
    // no Node modules (the webview bundles them), and only contracts beneath them.
    files: ['render/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'render/ is bundled into the webview: no Node modules.',
          })),
          patterns: [
            ...noEditorApi.patterns,
            { regex: '^\\.\\./(?!protocol/)', message: 'render/ imports only protocol/ and its own modules.' },
          ],
        },
      ],
    },
  },
  {
    // The webview runs in a browser: neither the editor API nor Node's modules, no Node globals (typescript-eslint
    // turns no-undef off, so globals.browser alone checks nothing), and of the project only protocol/ and render/.
    files: ['media/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'The webview runs in a browser: no Node modules.' })),
          patterns: [
            ...noEditorApi.patterns,
            {
              regex: '^(\\.\\./)+(src|engine|server|bench|test)(/|$)',
              message: 'The webview imports only protocol/ and render/ from outside media/.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'require', 'Buffer', '__dirname', '__filename', 'global', 'module'].map((name) => ({
          name,
          message: 'The webview runs in a browser: no Node globals.',
        })),
      ],
    },
  },
);
