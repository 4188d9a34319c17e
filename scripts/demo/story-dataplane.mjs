import { expectStatus, request } from './http-client.mjs';
import { describeToken } from './jwt.mjs';

/** The docs' "some actions like generating dataplane tokens are available on the zone control plane". */
export function addDataplaneSteps(runner, demo) {
  const { topology } = demo;

  runner.add("Generate a dataplane token on zone-1 and bootstrap with it on zone-1's dp-server", async (say) => {
    const body = { name: 'dp-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '24h' };
    const denied = await request('POST', `${topology.url('zone-1')}/tokens/dataplane`, { token: demo.johnToken, body });
    say(`as john (team-a):  POST zone-1/tokens/dataplane → ${denied.status} ${denied.json?.detail ?? ''}`);
    if (denied.status !== 403) throw new Error(`john is not allowed to generate dataplane tokens; expected 403, got ${denied.status}`);

    say(`$ curl -s localhost:${topology.zones.get('zone-1').ready.httpPort}/tokens/dataplane -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data '${JSON.stringify(body)}'`);
    const issued = expectStatus(await request('POST', `${topology.url('zone-1')}/tokens/dataplane`, { token: demo.adminToken, body }), 200, 'dataplane token on zone-1');
    const dataplaneToken = issued.text.trim();
    say(`as admin: ${describeToken(dataplaneToken)}`);

    const bootstrap = { mesh: 'default', name: 'dp-1', dataplaneToken };
    const accepted = expectStatus(await request('POST', `${topology.dpServerUrl('zone-1')}/bootstrap`, { body: bootstrap }), 200, "bootstrap on zone-1's dp-server");
    say(`POST zone-1 dp-server /bootstrap → 200 ${JSON.stringify(accepted.json)}`);

    const elsewhere = await request('POST', `${topology.dpServerUrl('zone-2')}/bootstrap`, { body: bootstrap });
    say(`POST zone-2 dp-server /bootstrap → ${elsewhere.status} ${elsewhere.json?.detail ?? ''}`);
    if (elsewhere.status !== 401) throw new Error(`zone-2 must refuse zone-1's dataplane token with 401, answered ${elsewhere.status}`);
  });
}
