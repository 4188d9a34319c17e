import { expectStatus, request, whoAmI } from './http-client.mjs';
import { decodeJwt, describeToken } from './jwt.mjs';

const planes = ['global', 'zone-1', 'zone-2'];

/** Checks a who-am-i answer is john of team-a, authenticated. */
export async function expectJohn(demo, plane, token) {
  const me = await whoAmI(demo.topology.url(plane), token);
  if (me.status !== 200 || me.name !== 'john' || !me.groups?.includes('team-a') || !me.groups.includes('mesh-system:authenticated')) {
    throw new Error(`${plane} did not accept john's token: ${me.status} ${JSON.stringify(me.groups ? { name: me.name, groups: me.groups } : me.detail)}`);
  }
  return me;
}

/** Issues a token for john/team-a on global (the demo's own, quiet way). */
export async function issueJohnToken(demo) {
  const body = { name: 'john', groups: ['team-a'], validFor: '24h' };
  return expectStatus(await request('POST', `${demo.topology.url('global')}/tokens/user`, { token: demo.adminToken, body }), 200, 'user token').text.trim();
}

/** The docs' user-token story, across global and both zones; and what `public` and `private` mean. */
export function addUserTokenSteps(runner, demo) {
  const { topology } = demo;

  runner.add("Create a user token for john (group team-a) on global with the docs' curl", async (say) => {
    const port = topology.global.ready.httpPort;
    const data = `{"name": "john","groups": ["team-a"], "validFor": "24h"}`;
    const command = `curl localhost:${port}/tokens/user \\\n  -H"authentication: Bearer $ADMIN_TOKEN" \\\n  -H'content-type: application/json' \\\n  --data '${data}'`;
    say(`$ ${command}`);
    if (demo.curl.available) {
      demo.johnToken = (await demo.curl.run(command, { ADMIN_TOKEN: demo.adminToken })).trim();
    } else {
      say('(curl missing: the same request through fetch)');
      demo.johnToken = await issueJohnToken(demo);
    }
    if (demo.johnToken.split('.').length !== 3) throw new Error(`expected a JWT, got ${JSON.stringify(demo.johnToken.slice(0, 300))}`);
    const { header } = decodeJwt(demo.johnToken);
    if (header.alg !== 'RS256' || header.typ !== 'JWT') throw new Error(`unexpected header ${JSON.stringify(header)}`);
    say(describeToken(demo.johnToken));
  });

  runner.add("Use john's token on global, zone-1 and zone-2 (GET /who-am-i)", async (say) => {
    say(`$ curl -s <plane>/who-am-i -H"authorization: Bearer $JOHN_TOKEN"`);
    for (const plane of planes) {
      const me = await expectJohn(demo, plane, demo.johnToken);
      say(`${plane.padEnd(6)} ${topology.url(plane)} → 200 ${JSON.stringify({ name: me.name, groups: me.groups })}`);
    }
  });

  runner.add('zone-1 (public) holds no private key and cannot mint user tokens; zone-2 (private) can', async (say) => {
    for (const [plane, wantsPrivate] of [['zone-1', false], ['zone-2', true]]) {
      const keys = expectStatus(await request('GET', `${topology.url(plane)}/tokens/user/signing-keys`, { token: demo.adminToken }), 200, `${plane} signing keys`);
      const items = keys.json.items ?? [];
      const withPrivate = items.filter((k) => k.hasPrivateKey).map((k) => k.serial);
      say(`${plane}: signing keys ${JSON.stringify(items.map((k) => k.serial))}, with a private key: ${JSON.stringify(withPrivate)}`);
      if (items.length === 0) throw new Error(`${plane} has no user-token signing keys`);
      if (wantsPrivate !== (withPrivate.length === items.length)) {
        throw new Error(`${plane} should hold ${wantsPrivate ? 'every' : 'no'} private key, holds ${JSON.stringify(withPrivate)}`);
      }
    }
    const body = { name: 'john', groups: ['team-a'], validFor: '1h' };
    const refused = await request('POST', `${topology.url('zone-1')}/tokens/user`, { token: demo.adminToken, body });
    say(`zone-1 POST /tokens/user → ${refused.status} ${refused.json?.detail ?? refused.text.slice(0, 200)}`);
    if (refused.status !== 409) throw new Error(`zone-1 should refuse to mint user tokens with 409, answered ${refused.status}`);
    const minted = expectStatus(await request('POST', `${topology.url('zone-2')}/tokens/user`, { token: demo.adminToken, body }), 200, 'zone-2 user token');
    say(`zone-2 POST /tokens/user → 200 ${describeToken(minted.text)}`);
    for (const plane of planes) await expectJohn(demo, plane, minted.text.trim());
    say("the token zone-2 minted works on global, zone-1 and zone-2");
  });
}
