/**
 * Cold verification: distinct valid user tokens verified per second by the core verifier (every
 * token a cache miss), against raw `crypto.verify('sha256', …)` over the same tokens in the same
 * process, interleaved in small batches.
 *
 * The baseline is the least any RS256 check of a compact token does: cut the token at its last
 * dot and hand crypto.verify the signing input's bytes and the signature's base64url-decoded bytes.
 * The ratio is therefore what the verifier's checks cost (structure, alphabet, header, alg, kid,
 * payload JSON and claims, exp, nbf, revocation, the cache). The stricter figure against
 * crypto.verify on bytes decoded before timing (the RSA work alone) is reported beside it.
 */
import { verify } from 'node:crypto';
import { checkUserClaims, createLogger, SqliteStore, systemClock, TokenFamilies, TokenVerifier } from '@meshauth/core';
import { interleavedPass, median, pairedRounds, round } from './lib/stats.mjs';
import { progress, runIfMain } from './lib/standalone.mjs';

/** Tokens per interleaved batch: long enough to time (~2 ms), short enough that all sides share the machine's moods. */
const BATCH = 50;

export async function run(cfg) {
  const store = SqliteStore.open(':memory:');
  let families;
  try {
    families = await TokenFamilies.open({ store, clock: systemClock, logger: createLogger({ name: 'verify-cold', level: 'silent' }) });
    const { family, issuer } = families.user;
    await family.generateKey();
    progress('verify-cold', `issuing ${cfg.verifyTokens} distinct tokens`);
    const tokens = await Promise.all(
      Array.from({ length: cfg.verifyTokens }, (_, i) => issuer.issue({ Name: `user-${i}`, Groups: ['team-a', 'team-b'] }, 3_600_000)),
    );
    const publicKey = family.keys.get(1).publicKey;
    const items = tokens.map((token) => {
      const dot = token.lastIndexOf('.');
      return { token, data: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') };
    });

    let verifier;
    const core = (batch) => {
      for (const { token } of batch) verifier.verify(token);
    };
    const rawOverTokens = (batch) => {
      for (const { token } of batch) {
        const dot = token.lastIndexOf('.');
        if (!verify('sha256', Buffer.from(token.slice(0, dot)), publicKey, Buffer.from(token.slice(dot + 1), 'base64url'))) throw new Error('baseline: bad signature');
      }
    };
    const rsaOnly = (batch) => {
      for (const { data, signature } of batch) if (!verify('sha256', data, publicKey, signature)) throw new Error('baseline: bad signature');
    };
    // A fresh verifier per pass, configured as the planes configure theirs: every token is a miss.
    const pass = () => {
      verifier = new TokenVerifier({ keys: family.keys, revocations: family.revocations, clock: systemClock, label: 'user token', checkClaims: checkUserClaims });
      return interleavedPass(items, BATCH, core, rawOverTokens, rsaOnly);
    };

    pass();
    const coreRates = [];
    const baselineRates = [];
    const ratios = [];
    const rsaOnlyRatios = [];
    for (let i = 0; i < cfg.verifyRounds; i++) {
      const [coreRate, baseRate, rsaRate] = pass();
      coreRates.push(coreRate);
      baselineRates.push(baseRate);
      ratios.push(coreRate / baseRate);
      rsaOnlyRatios.push(coreRate / rsaRate);
      progress('verify-cold', `round ${i + 1}: core ${Math.round(coreRate)}/s, crypto.verify over the tokens ${Math.round(baseRate)}/s (on bytes decoded beforehand ${Math.round(rsaRate)}/s)`);
    }
    return {
      ...pairedRounds(coreRates, baselineRates, ratios),
      ratioVsPredecoded: round(median(rsaOnlyRatios), 3),
      tokens: tokens.length,
      rounds: cfg.verifyRounds,
      target: 0.9,
    };
  } finally {
    families?.feed.stop();
    await store.close();
  }
}

await runIfMain(import.meta.url, run);
