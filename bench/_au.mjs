import { checkUserClaims, SqliteStore, systemClock, TokenFamilies, TokenVerifier, createAuthenticator } from '@meshauth/core';
const store = SqliteStore.open(':memory:');
const { family, issuer } = new TokenFamilies({ store, clock: systemClock }).user;
await family.generateKey(1);
const token = await issuer.issue({ Name: 'bench-user', Groups: ['developers'] }, 3_600_000);
const verifier = new TokenVerifier({ keys: family.keys, revocations: family.revocations, clock: systemClock, label: 'user token', checkClaims: checkUserClaims });
const auth = createAuthenticator({ type: 'tokens', localhostIsAdmin: true, userTokens: verifier });
const raw = Buffer.from(`Bearer ${token}`, 'latin1');
const N = 200000;
for (let k=0;k<3;k++){
let t = performance.now();
for (let i=0;i<N;i++){ const h = raw.toString('latin1'); auth({ remoteAddress: '127.0.0.1', headers: { authorization: h }, clientCertVerified: false }); }
const a = (performance.now()-t)*1000/N;
t = performance.now();
for (let i=0;i<N;i++){ const h = raw.toString('latin1'); auth({ remoteAddress: '127.0.0.1', headers: { }, clientCertVerified: false }); }
const b = (performance.now()-t)*1000/N;
console.log('with token', a.toFixed(2), 'µs; without', b.toFixed(2), 'µs');
}
import { bearerToken } from '@meshauth/core';
const m = new Map([[token, 1]]);
const steps = {
  toString: () => raw.toString('latin1'),
  bearer: () => bearerToken({ authorization: raw.toString('latin1') }),
  bearerMapGet: () => m.get(bearerToken({ authorization: raw.toString('latin1') })),
  sliceMapGet: () => m.get(raw.toString('latin1').slice(7)),
  verifyHit: () => verifier.verify(bearerToken({ authorization: raw.toString('latin1') })),
};
for (let k=0;k<2;k++) for (const [n, f] of Object.entries(steps)) { const t = performance.now(); for (let i=0;i<N;i++) f(); console.log(n.padEnd(14), ((performance.now()-t)*1000/N).toFixed(2)); }
