// Lint setup: typescript-eslint with type information, so that floating promises are caught.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Node's own modules, with and without `node:`, for the rule that keeps them out of the webview.
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
// Only the VS Code extension (src/ outside the products below) may import the editor API.
const noEditorApi = { patterns: [{ group: ['vscode', 'vscode/*'], message: 'Only the VS Code extension imports vscode; this folder also runs outside the editor.' }] };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'media/dist/**', '.vscode-test/**', '.leak-lens/**', 'demo/**', 'test/fixtures/apps/**', 'bin/**', 'scripts/**', 'eslint.config.mjs'] },
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
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The webview bundle runs in a browser; heap strings reach the DOM only as text, never as HTML.
    files: ['media/**/*.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      'no-restricted-properties': ['error', ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({ property, message: 'Render heap data with textContent or the h() helper, never as HTML.' }))],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.property.name='write'][callee.object.name='document']", message: 'No document.write in the webview.' }],
    },
  },
  {
    // The engine runs in plain Node, workers, the language server and the CLI: it must never reach for an editor API.
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['vscode', 'vscode-*', '../src/*', '../server/*'] }],
    },
  },
  {
    // Products that run outside the editor: the language server, the capture library, the CLI, the debug adapter, the
    // sweeper and the contracts. None may reach for the editor API (only src/ outside these folders is the extension).
    files: ['server/**/*.ts', 'render/**/*.ts', 'src/capture/**/*.ts', 'src/cli/**/*.ts', 'src/adapter/**/*.ts', 'src/sweeper/**/*.ts', 'src/testing/**/*.ts', 'protocol/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noEditorApi] },
  },
  {
    // The webview runs in a browser: neither the editor API nor Node's modules, and no Node globals (typescript-eslint
    // turns no-undef off, so globals.browser alone checks nothing).
    files: ['media/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: nodeBuiltins.map((name) => ({ name, message: 'The webview runs in a browser: no Node modules.' })), ...noEditorApi }],
      'no-restricted-globals': ['error', ...['process', 'require', 'Buffer', '__dirname', '__filename', 'global', 'module'].map((name) => ({ name, message: 'The webview runs in a browser: no Node globals.' }))],
    },
  },
);
