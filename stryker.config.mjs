// Mutation testing of the security-critical code: `pnpm test:mutation` (not part of `pnpm test` or CI).
// Each mutant is a small change to the code (a condition flipped, a check deleted); a mutant the
// unit tests do not fail on marks behaviour no test pins. Reports go to reports/mutation/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // pnpm does not hoist the runner where Stryker's own plugin discovery looks, so it is named by path.
  plugins: ['./node_modules/@stryker-mutator/vitest-runner/dist/src/index.js'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'packages/core/src/tokens/**/*.ts',
    'packages/core/src/authn/**/*.ts',
    'packages/core/src/sync/**/*.ts',
    '!packages/core/src/**/*.test.ts',
  ],
  // Not needed in the sandbox: the end-to-end suites, benchmarks, build output.
  ignorePatterns: ['/bench', '/test', '/scripts', '/packages/*/dist', '/reports', '/data', '/.demo'],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants and tables, run while a module loads) cannot be traced
  // to the tests that reach them, so each one runs the whole unit suite (~90 s here). Stryker
  // counted 396 of 1,974 and put them at two thirds of the run's time; with this set, the 126 that
  // only run at load are reported as ignored, and the rest still run against the tests reaching
  // them. Set it to false to run those 126 too.
  ignoreStatic: true,
  // Two cores, shared: one vitest worker per core.
  concurrency: 2,
  // Only mutants whose code or tests changed since the last run are run again (reports/ is not committed).
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 90, break: null },
  // The dry run records which mutants each test reaches; with the million-revocation sync tests it
  // takes longer than Stryker's default 5 minutes on two shared cores. Only the dry run's limit:
  // mutants are still cut off by timeoutMS below.
  dryRunTimeoutMinutes: 30,
  // Beyond the dry run's time per test: a mutant that loops forever is cut off after this long.
  // Each one also costs a restart of its vitest worker; the hash-probe loops make dozens.
  timeoutMS: 5_000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
