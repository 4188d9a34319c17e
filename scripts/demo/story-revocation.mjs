import { expectStatus, request, whoAmI } from './http-client.mjs';
import { waitUntil } from './wait-until.mjs';

/** Revocation on global, and how long until each zone refuses the token: the point of the sync. */
export function addRevocationSteps(runner, demo) {
  const { topology } = demo;

  runner.add("Revoke john's token on global; both zones refuse it (propagation time measured)", async (say) => {
    say(`$ curl -s localhost:${topology.global.ready.httpPort}/tokens/user/revocations -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data "{\\"token\\":\\"$JOHN_TOKEN\\"}"`);
    const started = performance.now();
    const revoked = expectStatus(await request('POST', `${topology.url('global')}/tokens/user/revocations`, { token: demo.adminToken, body: { token: demo.johnToken } }), 201, 'revocation');
    say(`global → 201 ${JSON.stringify(revoked.json)}`);

    const refusedOn = async (plane) => {
      let last = '';
      const refusal = await waitUntil(
        async () => {
          const me = await whoAmI(topology.url(plane), demo.johnToken);
          last = `${me.status} ${me.detail}`;
          return me.status === 401 && me;
        },
        { timeoutMs: 30_000, intervalMs: 5, what: `${plane} to refuse the revoked token`, last: () => last },
      );
      const ms = performance.now() - started;
      if (!/revoked/i.test(refusal.detail)) throw new Error(`${plane} refused the token, but not as revoked: ${refusal.detail}`);
      return { plane, ms, detail: refusal.detail };
    };
    const results = await Promise.all(['global', 'zone-1', 'zone-2'].map(refusedOn));
    for (const r of results) say(`${r.plane.padEnd(6)} → 401 "${r.detail}" after ${r.ms.toFixed(1)} ms`);
  });
}
