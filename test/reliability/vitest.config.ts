import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The reliability and security suite: real daemons, killed, starved and fed hostile input.
 * Kept out of `pnpm test` (the root config excludes it) and run by `pnpm test:reliability`,
 * whose wrapper (run.mjs) turns the results into the one summary line.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/reliability/**/*.test.ts'],
    // Kills, restarts and RSA keygen on a shared 2-core machine: generous, never relied on for timing.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
