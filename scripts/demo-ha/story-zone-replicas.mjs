// The zone half of the HA story: zone-1 as two zone-cp replicas on a PostgreSQL database of its
// own (test/ha-zone.test.ts): one leader holds the stream to global, the other stands by; a
// dataplane token of one bootstraps on the other; the leader's SIGKILL hands the stream over.
import { expectStatus, request } from '../demo/http-client.mjs';
import { describeToken } from '../demo/jwt.mjs';
import { waitUntil } from '../demo/wait-until.mjs';
import { expectAccepted, issueUserToken, leads, leadsLine, refusedAsRevoked, showStats, syncStatus, ZONE, ZONE_ROLE } from './ha-helpers.mjs';

/** What a replica's `GET /sync/status` says about its role. */
const role = (s) => JSON.stringify({ leader: s.leader, instance: s.instance, state: s.state });

/** Steps 4–6: the zone's database, its two replicas, and which of them leads. */
export function addZoneStartSteps(runner, demo) {
  const { topology } = demo;

  runner.add("Start a second PostgreSQL for zone-1's replicas (the zone's own database, apart from global's)", async (say) => {
    const postmaster = await topology.zoneDb.start();
    const { settings } = topology.zoneDb;
    say(`PostgreSQL ${topology.zoneDb.version() ?? '(version unknown)'} pid ${postmaster.pid} on ${settings.host}:${settings.port}, database ${settings.dbName}`);
    say(`data in ${postmaster.dataDir}, log ${topology.zoneDb.log}`);
    say("(a server of its own: stopping global's database later leaves the zone's running)");
  });

  runner.add(`Create a zone token on global-1 and start ${ZONE} as two replicas on that database, listing both global replicas`, async (say) => {
    const [one] = topology.replicas;
    const body = { zone: ZONE, scope: ['cp'], validFor: '24h' };
    say(`$ curl -s localhost:${one.ready.httpPort}/tokens/zone -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data '${JSON.stringify(body)}' > ${ZONE}.token`);
    const zoneToken = expectStatus(await request('POST', `${topology.url(one.label)}/tokens/zone`, { token: demo.adminToken, body }), 200, 'zone token').text.trim();
    say(describeToken(zoneToken));
    const { replicas, globalAddress } = await topology.startZoneReplicas(ZONE, zoneToken, topology.replicas, 2);
    const { settings } = topology.zoneDb;
    say(`both with MESHAUTH_STORE_TYPE=postgres MESHAUTH_STORE_POSTGRES_PORT=${settings.port} MESHAUTH_STORE_POSTGRES_DB_NAME=${settings.dbName} and`);
    say(`MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS=${globalAddress}`);
    for (const daemon of replicas) {
      const { httpPort, dpServerPort, store } = daemon.ready;
      say(`${daemon.label} pid ${daemon.pid}: HTTP ${httpPort}, dp-server ${dpServerPort}, store ${store}`);
      if (!/^postgres:\/\//.test(String(store))) throw new Error(`${daemon.label} does not run on PostgreSQL: store ${store}`);
      if (daemon.logLines().some((line) => JSON.stringify(line).includes(settings.password))) throw new Error(`${daemon.label} logged the database password`);
    }
  });

  runner.add(`Exactly one ${ZONE} replica leads (a lease in the zone's database) and streams from global; the other stands by`, async (say) => {
    const replicas = topology.zoneReplicas;
    let last = '';
    const statuses = await waitUntil(
      async () => {
        const all = await Promise.all(replicas.map((r) => syncStatus(demo, r.label)));
        last = JSON.stringify(all.map((s) => ({ leader: s.leader, state: s.state, appliedVersion: s.appliedVersion, lastError: s.lastError })));
        const leaders = all.filter((s) => s.leader === true);
        if (leaders.length !== 1) return false;
        const [leader] = leaders;
        const follower = all.find((s) => s !== leader);
        // The follower reports the position the leader recorded in the store.
        return leader.state === 'connected' && leader.appliedVersion > 0 && follower.state === 'standby' && follower.appliedVersion === leader.appliedVersion && all;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `one ${ZONE} replica to lead and apply global's state, the other to stand by at the same version`, last: () => last },
    );
    const leaderIndex = statuses.findIndex((s) => s.leader);
    const leader = replicas[leaderIndex];
    const follower = replicas.find((r) => r !== leader);
    const leaderStatus = statuses[leaderIndex];
    const followerStatus = statuses.find((s) => s !== leaderStatus);
    if (leaderStatus.instance === followerStatus.instance) throw new Error(`both ${ZONE} replicas report instance ${leaderStatus.instance}`);
    const connected = topology.replicaAt(leaderStatus.globalAddress);
    if (!connected) throw new Error(`${leader.label} is connected to ${leaderStatus.globalAddress}, which is neither global replica`);
    if (leaderStatus.stats.snapshots !== 1) throw new Error(`${leader.label} applied ${leaderStatus.stats.snapshots} snapshots, expected 1`);
    for (const [daemon, status] of [[leader, leaderStatus], [follower, followerStatus]]) {
      say(`$ curl -s localhost:${daemon.ready.httpPort}/sync/status`);
      say(`${daemon.label} → ${role(status)}, appliedVersion ${status.appliedVersion}, stats ${showStats(status.stats)}`);
    }
    say(`${leader.label} streams from ${leaderStatus.globalAddress} (${connected.label}); ${follower.label} follows the database at the version ${leader.label} recorded`);
    await waitUntil(() => leads(leader, ZONE_ROLE), { timeoutMs: 10_000, what: `${leader.label} to log "${leadsLine(ZONE_ROLE)}"` });
    if (leads(follower, ZONE_ROLE)) throw new Error(`${follower.label} logged that it leads too`);
    say(`${leader.label} logged "${leadsLine(ZONE_ROLE)}"; ${follower.label} did not`);
    demo.zoneLeader = leader;
    demo.zoneFollower = follower;
    demo.connected = connected;
  });
}

/** After john's token: a dataplane token from one zone replica bootstraps on the other's dp-server. */
export function addZoneDataplaneStep(runner, demo) {
  const { topology } = demo;
  runner.add(`Generate a dataplane token on ${ZONE}a; it bootstraps on ${ZONE}b's dp-server (shared dataplane keys)`, async (say) => {
    const [a, b] = topology.zoneReplicas;
    const body = { name: 'dp-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '24h' };
    say(`$ curl -s localhost:${a.ready.httpPort}/tokens/dataplane -H"authorization: Bearer $ADMIN_TOKEN" -H'content-type: application/json' --data '${JSON.stringify(body)}'`);
    const dataplaneToken = expectStatus(await request('POST', `${topology.url(a.label)}/tokens/dataplane`, { token: demo.adminToken, body }), 200, `dataplane token on ${a.label}`).text.trim();
    say(`${a.label} (${a === demo.zoneLeader ? 'the leader' : 'standing by'}) → ${describeToken(dataplaneToken)}`);
    const bootstrap = { mesh: 'default', name: 'dp-1', dataplaneToken };
    let last = '';
    const accepted = await waitUntil(
      async () => {
        const result = await request('POST', `${topology.dpServerUrl(b.label)}/bootstrap`, { body: bootstrap });
        last = `${result.status} ${result.json?.detail ?? result.text.slice(0, 200)}`;
        return result.status === 200 && result;
      },
      { timeoutMs: 10_000, intervalMs: 20, what: `${b.label}'s dp-server to accept the dataplane token issued on ${a.label}`, last: () => last },
    );
    say(`POST ${b.label} dp-server /bootstrap → 200 ${JSON.stringify(accepted.json)}`);
  });
}

/** The last steps: SIGKILL the zone's leader, the takeover, and a revocation on global reaching the survivor. */
export function addZoneTakeoverSteps(runner, demo) {
  const { topology } = demo;

  runner.add(`SIGKILL the ${ZONE} leader; the other replica takes the stream over and resumes with a delta`, async (say) => {
    const dead = demo.zoneLeader;
    const survivor = demo.zoneFollower;
    const leaderBefore = await syncStatus(demo, dead.label);
    const before = await syncStatus(demo, survivor.label);
    say(`before: ${dead.label} → ${role(leaderBefore)}, appliedVersion ${leaderBefore.appliedVersion}, stats ${showStats(leaderBefore.stats)}`);
    say(`        ${survivor.label} → ${role(before)}, appliedVersion ${before.appliedVersion} (read from the database), stats ${showStats(before.stats)}`);
    const started = performance.now();
    const killedAt = Date.now();
    await topology.kill(dead);
    say(`$ kill -9 ${dead.pid}   # ${dead.label}: its stream to global and its lease session in the database end with it`);
    let last = '';
    const after = await waitUntil(
      async () => {
        const s = await syncStatus(demo, survivor.label);
        last = JSON.stringify({ leader: s.leader, state: s.state, globalAddress: s.globalAddress, lastError: s.lastError });
        return s.leader === true && s.state === 'connected' && s;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: `${survivor.label} to take the lease over and connect to global`, last: () => last },
    );
    const ms = performance.now() - started;
    const global = topology.replicaAt(after.globalAddress);
    say(`after ${ms.toFixed(0)} ms: ${survivor.label} → ${role(after)}, globalAddress ${after.globalAddress} (${global?.label ?? 'neither replica?'})`);
    const line = await waitUntil(() => leads(survivor, ZONE_ROLE) && survivor.logLines().findLast((l) => l.msg === leadsLine(ZONE_ROLE)), {
      timeoutMs: 5_000,
      what: `${survivor.label} to log "${leadsLine(ZONE_ROLE)}"`,
    });
    say(`${survivor.label} logged "${leadsLine(ZONE_ROLE)}" ${((line.time - killedAt) / 1000).toFixed(1)} s after the kill`);
    // Global saw the new leader's Hello name the version the dead leader recorded: a resumption.
    const hello = await waitUntil(() => global?.logLines().findLast((l) => l.msg === 'sync: zone connected' && l.zone === ZONE && l.time >= killedAt), {
      timeoutMs: 5_000,
      what: `${global?.label} to log "sync: zone connected" for ${survivor.label}`,
    });
    const snapshotSent = global.logLines().some((l) => l.msg === 'sync: sending snapshot' && l.zone === ZONE && l.time >= killedAt);
    say(`${global.label} logged "sync: zone connected" with appliedVersion ${hello.appliedVersion}; ${snapshotSent ? 'and SENT A SNAPSHOT' : 'no "sync: sending snapshot"'}`);
    say(`${survivor.label} stats ${showStats(after.stats)}, appliedVersion ${after.appliedVersion}: it resumed from the version ${dead.label} recorded, no snapshot`);
    // The follower reads the recorded position every second or so: the Hello may name a later one than it showed.
    if (!(hello.appliedVersion > 0 && hello.appliedVersion >= before.appliedVersion)) throw new Error(`${survivor.label} resumed from version ${hello.appliedVersion}, the store held ${before.appliedVersion}`);
    if (snapshotSent || after.stats.snapshots !== 0) throw new Error(`${survivor.label} took a snapshot on takeover: stats ${showStats(after.stats)}`);
    demo.zoneLeader = survivor;
    demo.zoneFollower = undefined;
    demo.zoneGlobal = global;
  });

  runner.add(`Revoke a token on global; the revocation reaches the surviving ${ZONE} replica as a delta`, async (say) => {
    const survivor = demo.zoneLeader;
    const global = demo.zoneGlobal;
    const token = await issueUserToken(demo, global, 'mary', ['team-c']);
    say(`${global.label} POST /tokens/user → ${describeToken(token)}`);
    const me = await expectAccepted(demo, survivor.label, token, 'mary');
    say(`${survivor.label.padEnd(8)} → 200 ${JSON.stringify({ name: me.name, groups: me.groups })}`);
    const before = await syncStatus(demo, survivor.label);
    const started = performance.now();
    const revoked = expectStatus(await request('POST', `${topology.url(global.label)}/tokens/user/revocations`, { token: demo.adminToken, body: { token } }), 201, 'revocation');
    say(`${global.label} POST /tokens/user/revocations → 201 ${JSON.stringify(revoked.json)}`);
    const refusal = await refusedAsRevoked(demo, survivor.label, token, started);
    say(`${survivor.label.padEnd(8)} → 401 "${refusal.detail}" after ${refusal.ms.toFixed(1)} ms`);
    const after = await syncStatus(demo, survivor.label);
    say(`${survivor.label} stats ${showStats(before.stats)} → ${showStats(after.stats)}, appliedVersion ${before.appliedVersion} → ${after.appliedVersion}: deltas only, never a snapshot`);
    if (after.stats.snapshots !== 0 || !(after.stats.deltas > 0) || after.stats.deltas <= before.stats.deltas) throw new Error(`expected the revocation as a delta and no snapshot: stats ${showStats(after.stats)}`);
    if (after.stats.nacks !== 0) throw new Error(`${survivor.label} nacked a batch: stats ${showStats(after.stats)}`);
  });
}
