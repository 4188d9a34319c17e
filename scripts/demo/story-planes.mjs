import { expectStatus, request } from './http-client.mjs';
import { decodeJwt, describeToken } from './jwt.mjs';
import { demoZones } from './topology.mjs';
import { waitUntil } from './wait-until.mjs';

/** A `GET /zones` item's zone name. */
const zoneNameOf = (item) => item.zone ?? item.name;

/** Steps 1–4: global up, the admin token read the docs' way, zone tokens, zones up and synced. */
export function addPlaneSteps(runner, demo) {
  const { topology } = demo;

  runner.add('Start the global control plane (allows zones up to `private` sync)', async (say) => {
    const ready = await topology.startGlobal();
    say(`global-cp pid ${topology.global.pid}: HTTP ${ready.httpPort}, HTTPS ${ready.httpsPort}, sync gRPC ${ready.syncPort}`);
    say(`store ${demo.workDir}/global.db, log ${topology.global.logFile}`);
  });

  runner.add('Read the admin user token from localhost, as the docs do', async (say) => {
    const port = topology.global.ready.httpPort;
    const command = `curl -s localhost:${port}/global-secrets/admin-user-token | jq -r .data | base64 -d`;
    say(`$ ${command}`);
    if (demo.curl.available) {
      demo.adminToken = (await demo.curl.run(command)).trim();
    } else {
      say('(curl, jq or base64 missing: the same request through fetch)');
      const result = expectStatus(await request('GET', `${topology.url('global')}/global-secrets/admin-user-token`), 200, 'admin token');
      demo.adminToken = Buffer.from(result.json.data, 'base64').toString('utf8');
    }
    const { payload } = decodeJwt(demo.adminToken);
    if (payload.Name !== 'mesh-system:admin') throw new Error(`the admin token is for ${payload.Name}, not mesh-system:admin`);
    say(describeToken(demo.adminToken));
  });

  runner.add('Create a zone token (scope cp) for each zone on global', async (say) => {
    for (const zone of demoZones) {
      const body = { zone: zone.name, scope: ['cp'], validFor: '24h' };
      say(`$ curl -s localhost:${topology.global.ready.httpPort}/tokens/zone -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data '${JSON.stringify(body)}' > ${zone.name}.token`);
      const result = expectStatus(await request('POST', `${topology.url('global')}/tokens/zone`, { token: demo.adminToken, body }), 200, `zone token for ${zone.name}`);
      demo.zoneTokens.set(zone.name, result.text.trim());
      say(describeToken(result.text));
    }
  });

  runner.add('Start zone-1 (asks `public`) and zone-2 (asks `private`), each dialing global', async (say) => {
    const started = await Promise.all(demoZones.map((zone) => topology.startZone(zone, demo.zoneTokens.get(zone.name))));
    for (const [i, zone] of demoZones.entries()) {
      const ready = started[i];
      say(`${zone.name} pid ${topology.zones.get(zone.name).pid}: HTTP ${ready.httpPort}, HTTPS ${ready.httpsPort}, dp-server ${ready.dpServerPort}; asks ${zone.asks}`);
    }
  });

  runner.add('Wait until global reports both zones connected and up to date', async (say) => {
    let last = '';
    const zones = await waitUntil(
      async () => {
        const result = await request('GET', `${topology.url('global')}/zones`, { token: demo.adminToken });
        last = `${result.status} ${result.text.slice(0, 300)}`;
        if (result.status !== 200) return undefined;
        const items = demoZones.map((zone) => result.json.items.find((item) => zoneNameOf(item) === zone.name));
        const synced = items.every((item, i) => item?.connected && item.mode === demoZones[i].asks && item.versionsBehind === 0);
        return synced && items;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'GET /zones to list zone-1 (public) and zone-2 (private) connected, 0 versions behind', last: () => last },
    );
    for (const zone of zones) say(`${zoneNameOf(zone)}: connected, mode ${zone.mode}, acked version ${zone.ackedVersion}, ${zone.versionsBehind} behind`);
  });
}
