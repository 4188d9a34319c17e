import { expectStatus, request, whoAmI } from './http-client.mjs';
import { decodeJwt, describeToken } from './jwt.mjs';
import { expectJohn, issueJohnToken } from './story-user-tokens.mjs';
import { waitUntil } from './wait-until.mjs';

const zones = ['zone-1', 'zone-2'];

/** Polls until `check` passes: sync is asynchronous, so the zones get a moment. */
function eventually(plane, what, check) {
  let last = '';
  return waitUntil(
    async () => {
      try {
        return (await check()) ?? true;
      } catch (error) {
        last = error.message;
        return undefined;
      }
    },
    { timeoutMs: 30_000, intervalMs: 10, what: `${plane} ${what}`, last: () => last },
  );
}

/** The docs' three-step rotation: new key, regenerate tokens, remove the old key; mirrored on every zone. */
export function addRotationSteps(runner, demo) {
  const { topology } = demo;
  const globalUrl = () => topology.url('global');

  runner.add('Rotate: add signing key 2 on global and regenerate tokens; old and new tokens work everywhere', async (say) => {
    demo.oldToken = await issueJohnToken(demo);
    say(`john's token before rotation: ${describeToken(demo.oldToken)}`);
    say(`$ curl -s -X POST localhost:${topology.global.ready.httpPort}/tokens/user/signing-keys -H"authorization: Bearer $ADMIN_TOKEN"`);
    const created = expectStatus(await request('POST', `${globalUrl()}/tokens/user/signing-keys`, { token: demo.adminToken }), 201, 'new signing key');
    say(`global → 201 ${JSON.stringify(created.json)}`);
    if (created.json?.serial !== 2) throw new Error(`expected serial 2, got ${JSON.stringify(created.json)}`);

    demo.newToken = await issueJohnToken(demo);
    say(`john's token after rotation:  ${describeToken(demo.newToken)}`);
    if (decodeJwt(demo.newToken).header.kid !== '2') throw new Error('the new token is not signed by key 2');

    // The admin token is a user token too: regenerate it and store it where the docs read it from.
    const body = { name: 'mesh-system:admin', groups: ['mesh-system:admin'], validFor: '24h' };
    const admin = expectStatus(await request('POST', `${globalUrl()}/tokens/user`, { token: demo.adminToken, body }), 200, 'new admin token').text.trim();
    const stored = { type: 'GlobalSecret', name: 'admin-user-token', data: Buffer.from(admin).toString('base64') };
    expectStatus(await request('PUT', `${globalUrl()}/global-secrets/admin-user-token`, { token: demo.adminToken, body: stored }), 200, 'store the new admin token');
    demo.oldAdminToken = demo.adminToken;
    demo.adminToken = admin;
    say(`admin token regenerated (kid ${decodeJwt(admin).header.kid}) and stored as global secret admin-user-token`);

    for (const plane of zones) {
      await eventually(plane, 'to accept the kid-2 token', () => expectJohn(demo, plane, demo.newToken));
      await expectJohn(demo, plane, demo.oldToken);
      say(`${plane}: kid-1 token → 200, kid-2 token → 200`);
    }
  });

  runner.add('Delete signing key 1 on global; the zones refuse the old token as rotated and accept the new', async (say) => {
    say(`$ curl -s -X DELETE localhost:${topology.global.ready.httpPort}/global-secrets/user-token-signing-key-1 -H"authorization: Bearer $ADMIN_TOKEN"`);
    const deleted = await request('DELETE', `${globalUrl()}/global-secrets/user-token-signing-key-1`, { token: demo.adminToken });
    if (deleted.status !== 200 && deleted.status !== 204) throw new Error(`deleting key 1: ${deleted.status} ${deleted.json?.detail ?? deleted.text}`);
    say(`global → ${deleted.status}`);
    for (const plane of ['global', ...zones]) {
      const refusal = await eventually(plane, 'to refuse the kid-1 token as rotated', async () => {
        const me = await whoAmI(topology.url(plane), demo.oldToken);
        if (me.status !== 401 || !/rotated/i.test(me.detail)) throw new Error(`${me.status} ${me.detail}`);
        return me;
      });
      await expectJohn(demo, plane, demo.newToken);
      say(`${plane.padEnd(6)} kid-1 token → 401 "${refusal.detail}"; kid-2 token → 200`);
    }
    const oldAdmin = await whoAmI(globalUrl(), demo.oldAdminToken);
    if (oldAdmin.status !== 401) throw new Error(`the old admin token still works on global (${oldAdmin.status})`);
    say('the admin token from before the rotation is refused too; the regenerated one works');
  });
}
