import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The tests `pnpm test:mutation` runs against each mutant: the unit tests of the mutated folders
 * (tokens, authn, sync) only. The end-to-end suites under test/ start daemons, far too slow to run
 * per mutant. Core's other unit tests (stores, replication, planes) reach the revocation set and
 * the token family too: with them each mutant there ran dozens of files, and a run got through
 * three quarters of the mutants in 50 minutes, then slowed to three a minute. Without them the
 * whole run takes about an hour here. A mutant only those tests would catch counts as survived,
 * so each score is a lower bound.
 */
export default defineConfig({
  test: {
    include: ['packages/core/src/{tokens,authn,sync}/**/*.test.ts'],
    // The differential fuzz runs once per mutant here: 1,000 tokens reach every rule it checks.
    // The bulk tests (150,000 and a million revocations) shrink to a tenth: each still spans several
    // sync chunks, and a mutant in the code they cover costs seconds, not tens of seconds.
    env: { MESHAUTH_FUZZ_RUNS: '1000', MESHAUTH_TEST_SCALE: '0.1' },
    exclude: [...configDefaults.exclude],
    // Stryker's dry run records which mutants each test reaches (perTest coverage), which slows the
    // instrumented code many times over: the 150,000-revocation chunking test in batch-codec.test.ts (at full scale)
    // takes ~5 s plain and over 60 s there on two shared cores. A mutant that loops forever is still
    // cut off by Stryker's own timeout (timeoutMS, measured from the dry run), not by this one.
    testTimeout: 300_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
