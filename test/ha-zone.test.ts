import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../scripts/lib/embedded-postgres.mjs';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/**
 * A zone as two replicas on one PostgreSQL database (SPEC §8): both serve the API and the
 * dp-server from shared dataplane keys and revocations; only the leader streams from global and
 * writes what it receives into the database, the other follows the database; the leader's death
 * hands the stream to the survivor, which resumes with a delta.
 */
let pg: EmbeddedPostgresServer;
let global: Global;
let replicas: Daemon[];
const dir = tempDir('meshauth-ha-zone-');

const who = async (plane: { url: string }, token: string) => (await http('GET', `${plane.url}/who-am-i`, { token })).status;
const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
const dpUrl = (zone: Daemon) => `http://127.0.0.1:${zone.ready.dpServerPort as number}`;
const bootstrap = (zone: Daemon, dataplaneToken: string) => http('POST', `${dpUrl(zone)}/bootstrap`, { body: { mesh: 'default', name: 'web-1', dataplaneToken } });
const leaderOf = async () => {
  const statuses = await Promise.all(replicas.map((r) => syncStatus(r).catch(() => undefined)));
  return replicas.filter((_, i) => statuses[i]?.leader === true);
};

beforeAll(async () => {
  pg = await startEmbeddedPostgres({ dbName: 'zone' });
  global = await startGlobal(`${dir.path}/global.db`);
  const tokenFile = await writeZoneToken(global, dir.path, 'zone-ha');
  const start = () => startZone('zone-ha', '', { globalAddress: global.syncAddress, tokenFile, env: { ...pg.env, MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY: 'deny-after:5s' } });
  replicas = await Promise.all([start(), start()]);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await pg?.stop();
  dir.remove();
});

describe('zone replicas on PostgreSQL', () => {
  it('exactly one replica leads and streams; the other stands by; global lists the zone once', async () => {
    await waitFor('one leader, synced', async () => (await leaderOf()).length === 1 && (await syncStatus((await leaderOf())[0]!)).appliedVersion > 0);
    const statuses = await Promise.all(replicas.map(syncStatus));
    expect(statuses.map((s) => s.leader).sort()).toEqual([false, true]);
    expect(statuses.find((s) => !s.leader)!.state).toBe('standby');
    expect(new Set(statuses.map((s) => s.instance)).size).toBe(2);
    const items = (await http('GET', `${global.url}/zones`)).json.items as Record<string, unknown>[];
    expect(items.filter((z) => z.zone === 'zone-ha')).toHaveLength(1);
  });

  it('a user token from global works on both replicas, and a revocation on global reaches both', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'john', ['team-a']);
    await waitFor('both replicas accept the token', async () => (await Promise.all(replicas.map((r) => who(r, token)))).every((s) => s === 200), 10_000);
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti: jtiOf(token) } })).status).toBe(201);
    await waitFor('both replicas refuse the revoked token', async () => (await Promise.all(replicas.map((r) => who(r, token)))).every((s) => s === 401), 5_000);
  });

  it('a dataplane token issued by one replica bootstraps on the other, and its revocation on one is enforced by both', async () => {
    const issued = await http('POST', `${replicas[0]!.url}/tokens/dataplane`, { body: { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, validFor: '1h' } });
    expect(issued.status).toBe(200);
    const token = issued.text;
    // The key replica 0 made for the mesh reaches replica 1 through the change log, a moment later.
    await waitFor('the other replica bootstraps the dataplane token', async () => (await bootstrap(replicas[1]!, token)).status === 200, 5_000);
    const revocations = Buffer.from(jtiOf(token)).toString('base64');
    expect((await http('PUT', `${replicas[1]!.url}/meshes/default/secrets/dataplane-token-revocations-default`, { body: { type: 'Secret', name: 'dataplane-token-revocations-default', mesh: 'default', data: revocations } })).status).toBe(201);
    await waitFor('both dp-servers refuse the revoked dataplane token', async () => (await Promise.all(replicas.map((r) => bootstrap(r, token)))).every((r) => r.status === 401), 5_000);
  });

  it('when the leader is SIGKILLed the other replica takes the stream over and resumes with a delta', async () => {
    const [leader] = await leaderOf();
    const survivor = replicas.find((r) => r !== leader)!;
    const before = (await syncStatus(survivor)).appliedVersion as number;
    await leader!.kill();
    await waitFor('the survivor leads and is connected', async () => {
      const status = await syncStatus(survivor);
      return status.leader === true && status.state === 'connected';
    }, 20_000);
    expect(survivor.output.some((line) => line.includes('now runs the sync stream to global'))).toBe(true);
    const token = await issueUserToken(global.url, global.adminToken, 'after-takeover', []);
    await waitFor('the survivor accepts a token issued after the takeover', async () => (await who(survivor, token)) === 200, 10_000);
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti: jtiOf(token) } })).status).toBe(201);
    await waitFor('the survivor refuses it once revoked on global', async () => (await who(survivor, token)) === 401, 5_000);
    const status = await syncStatus(survivor);
    expect(status.appliedVersion).toBeGreaterThan(before);
    // It started from the version the dead leader recorded: deltas, never a snapshot.
    expect(status.stats).toMatchObject({ snapshots: 0 });
    expect(status.stats.deltas).toBeGreaterThan(0);
    replicas = [survivor];
  });

  it('a replica started on the database now follows it: it stands by and serves what the leader applied', async () => {
    const tokenFile = `${dir.path}/zone-ha-cp.token`;
    const late = await startZone('zone-ha', '', { globalAddress: global.syncAddress, tokenFile, env: { ...pg.env, MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY: 'deny-after:5s' } });
    replicas.push(late);
    const token = await issueUserToken(global.url, global.adminToken, 'late', []);
    await waitFor('the new replica accepts a token synced by the leader', async () => (await who(late, token)) === 200, 10_000);
    expect((await syncStatus(late)).state).toBe('standby');
  });

  it('the database restarted under both replicas: they keep verifying, then follow the leader again', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'outage', []);
    await waitFor('both accept', async () => (await Promise.all(replicas.map((r) => who(r, token)))).every((s) => s === 200), 10_000);
    await pg.pause();
    expect(await Promise.all(replicas.map((r) => who(r, token)))).toEqual([200, 200]);
    await pg.resume();
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti: jtiOf(token) } })).status).toBe(201);
    await waitFor('both refuse the token revoked after the restart', async () => (await Promise.all(replicas.map((r) => who(r, token)))).every((s) => s === 401), 30_000, 100);
  });

  it('a leader whose lease connection is cut stops streaming and says so; one replica leads again', async () => {
    const [leader] = await leaderOf();
    // The database ends the session holding the lease, as a failover of the database would.
    const ended = await pg.query("SELECT pg_terminate_backend(pid) AS ended FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()");
    expect(ended.length).toBeGreaterThan(0);
    await waitFor('the old leader says it stopped streaming', () => leader!.output.some((line) => line.includes('lost the zone leader lease; it stops streaming')), 10_000);
    await waitFor('exactly one leader, connected', async () => {
      const leaders = await leaderOf();
      return leaders.length === 1 && (await syncStatus(leaders[0]!)).state === 'connected';
    }, 20_000);
  });

  it('with global gone, every replica judges the down policy from the last contact the leader recorded', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'down-policy', []);
    await waitFor('both accept', async () => (await Promise.all(replicas.map((r) => who(r, token)))).every((s) => s === 200), 10_000);
    await global.daemon.kill();
    await waitFor('both refuse tokens of synced keys once global has been silent too long', async () => {
      const answers = await Promise.all(replicas.map((r) => http('GET', `${r.url}/who-am-i`, { token })));
      return answers.every((a) => a.status === 401 && /has not heard from/.test(a.json.detail as string));
    }, 20_000, 200);
  });
});
