import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The reliability suite runs on its own (pnpm test:reliability), not twice.
    exclude: [...configDefaults.exclude, 'test/reliability/**'],
    // End-to-end suites start real daemons (RSA keygen, SQLite fsyncs) on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
