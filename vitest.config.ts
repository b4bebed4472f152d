import { defineConfig } from 'vitest/config';

// Vitest gets its own config so it never inherits the web root from the Vite config.
export default defineConfig({
  root: '.',
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
