/**
 * Verification rate with a large revocation list held against with none, in this process: cold
 * (distinct tokens, every one a cache miss, as verify-cold measures) and warm (cache hits, where
 * the revocation lookup is most of the work). The two sides run interleaved in small batches.
 */
import { checkUserClaims, createLogger, RevocationSet, SqliteStore, systemClock, TokenFamilies, TokenVerifier } from '@meshauth/core';
import { progress } from './standalone.mjs';
import { interleavedPass, pairedRounds } from './stats.mjs';

export async function verifyWithRevocations(cfg, jtis, result) {
  const store = SqliteStore.open(':memory:');
  let families;
  try {
    families = await TokenFamilies.open({ store, clock: systemClock, logger: createLogger({ name: 'verify-with-revocations', level: 'silent' }) });
    const { family, issuer } = families.user;
    await family.generateKey();
    const tokens = await Promise.all(Array.from({ length: cfg.verifyTokens }, (_, i) => issuer.issue({ Name: `user-${i}`, Groups: ['team-a'] }, 3_600_000)));
    const full = new RevocationSet();
    for (const jti of jtis) full.add(jti);
    const none = new RevocationSet();
    const verifier = (revocations) => new TokenVerifier({ keys: family.keys, revocations, clock: systemClock, label: 'user token', checkClaims: checkUserClaims });
    const verifyAll = (v) => (batch) => {
      for (const token of batch) v.verify(token);
    };
    // Cold: fresh verifiers, every token a miss. Warm: verifiers that have seen every token.
    const cold = () => interleavedPass(tokens, 50, verifyAll(verifier(full)), verifyAll(verifier(none)));
    const warmFull = verifier(full);
    const warmNone = verifier(none);
    const warmItems = Array.from({ length: 10 }, () => tokens).flat();
    const warm = () => interleavedPass(warmItems, 500, verifyAll(warmFull), verifyAll(warmNone));
    const rounds = (pass) => {
      pass();
      const withRates = [];
      const withoutRates = [];
      const ratios = [];
      for (let i = 0; i < cfg.verifyRounds; i++) {
        const [rateA, rateB] = pass();
        withRates.push(rateA);
        withoutRates.push(rateB);
        ratios.push(rateA / rateB);
      }
      return pairedRounds(withRates, withoutRates, ratios);
    };
    const c = rounds(cold);
    result.verifyRatio = c.ratio;
    result.verifyPerSecond = c.perSecond;
    result.verifyBaselinePerSecond = c.baselinePerSecond;
    result.verifyTarget = 0.95;
    const w = rounds(warm);
    result.verifyWarmRatio = w.ratio;
    result.verifyWarmPerSecond = w.perSecond;
    result.verifyWarmBaselinePerSecond = w.baselinePerSecond;
    result.revocationsHeld = full.size;
    progress('scale', `verification with ${full.size} revocations: ${c.ratio} of the rate with none (warm cache: ${w.ratio})`);
  } finally {
    families?.feed.stop();
    await store.close();
  }
}
