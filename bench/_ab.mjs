import { verify } from 'node:crypto';
import { checkUserClaims, SqliteStore, systemClock, TokenFamilies, TokenVerifier } from '@meshauth/core';
const Old = (await import('/tmp/core-old/tokens/token-verifier.js')).TokenVerifier;
const store = SqliteStore.open(':memory:');
const { family, issuer } = new TokenFamilies({ store, clock: systemClock }).user;
await family.generateKey(1);
const N=2000;
const mkTokens = () => Promise.all(Array.from({ length: N }, (_, i) => issuer.issue({ Name: `user-${i}`, Groups: ['team-a', 'team-b'] }, 3_600_000)));
const publicKey = family.keys.get(1).publicKey;
const opts = { keys: family.keys, revocations: family.revocations, clock: systemClock, label: 'user token', checkClaims: checkUserClaims };
const tot = { base: 0, old: 0, neu: 0 };
const R = Number(process.argv[2] || 6);
for (let r=0;r<R;r++){
  // fresh token strings per round, as requests bring (no cached string hashes)
  const tokens = await mkTokens();
  const items = tokens.map((token) => { const dot = token.lastIndexOf('.'); return { t1: token, t2: (' '+token).slice(1), data: Buffer.from(token.slice(0, dot)), signature: Buffer.from(token.slice(dot + 1), 'base64url') }; });
  const o = new Old(opts), n = new TokenVerifier(opts);
  const fns = { base: (it) => verify('sha256', it.data, publicKey, it.signature), old: (it) => o.verify(it.t1), neu: (it) => n.verify(it.t2) };
  const names = Object.keys(fns);
  for (let b=0;b<N;b+=50){ const order = (b/50)%2 ? names : [...names].reverse(); for (const k of order){ const t=performance.now(); for (let i=b;i<b+50;i++) fns[k](items[i]); tot[k]+=performance.now()-t; } }
}
console.log(`base ${(tot.base*1000/N/R).toFixed(2)} µs, old ${(tot.old*1000/N/R).toFixed(2)} µs (ratio ${(tot.base/tot.old).toFixed(3)}), new ${(tot.neu*1000/N/R).toFixed(2)} µs (ratio ${(tot.base/tot.neu).toFixed(3)})`);
