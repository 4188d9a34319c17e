/**
 * Cold verification: distinct valid user tokens verified per second by the core verifier (every
 * token a cache miss), against raw `crypto.verify('sha256', …)` over the same tokens in the same
 * process. The baseline gets the signing input and signature already decoded, so it is the RSA
 * work alone: the ratio is what everything else in verification costs.
 */
import { verify } from 'node:crypto';
import { checkUserClaims, SqliteStore, systemClock, TokenFamilies, TokenVerifier } from '@meshauth/core';
import { bestOfRounds, timedPass } from './lib/stats.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';

export async function run(cfg) {
  const store = SqliteStore.open(':memory:');
  try {
    const families = new TokenFamilies({ store, clock: systemClock });
    const { family, issuer } = families.user;
    await family.generateKey(1);
    progress('verify-cold', `issuing ${cfg.verifyTokens} distinct tokens`);
    const tokens = await Promise.all(
      Array.from({ length: cfg.verifyTokens }, (_, i) => issuer.issue({ Name: `user-${i}`, Groups: ['team-a', 'team-b'] }, 3_600_000)),
    );
    const publicKey = family.keys.get(1).publicKey;
    const raw = tokens.map((token) => {
      const dot = token.lastIndexOf('.');
      return { data: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
    });

    // A fresh verifier per pass, configured as the planes configure theirs: every token is a miss.
    const freshVerifier = () =>
      new TokenVerifier({ keys: family.keys, revocations: family.revocations, clock: systemClock, label: 'user token', checkClaims: checkUserClaims });
    const core = () =>
      timedPass(tokens.length, () => {
        const verifier = freshVerifier();
        for (const token of tokens) verifier.verify(token);
      });
    const baseline = () =>
      timedPass(raw.length, () => {
        for (const { data, signature } of raw) if (!verify('sha256', data, publicKey, signature)) throw new Error('baseline: bad signature');
      });

    core();
    baseline();
    const coreRates = [];
    const baselineRates = [];
    const ratios = [];
    for (let i = 0; i < cfg.verifyRounds; i++) {
      // Alternate the order so neither side always runs on a warmer (or busier) machine.
      let coreRate;
      let baseRate;
      if (i % 2 === 0) {
        coreRate = core();
        baseRate = baseline();
      } else {
        baseRate = baseline();
        coreRate = core();
      }
      coreRates.push(coreRate);
      baselineRates.push(baseRate);
      ratios.push(coreRate / baseRate);
      progress('verify-cold', `round ${i + 1}: core ${Math.round(coreRate)}/s, crypto.verify ${Math.round(baseRate)}/s`);
    }
    return {
      ...bestOfRounds(coreRates, baselineRates, ratios),
      tokens: tokens.length,
      rounds: cfg.verifyRounds,
      target: 0.8,
    };
  } finally {
    store.close();
  }
}

await runIfMain(import.meta.url, run);
