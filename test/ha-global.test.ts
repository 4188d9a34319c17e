import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../scripts/lib/embedded-postgres.mjs';
import { stopAll, tempDir } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/**
 * Global as replicas on one PostgreSQL database (SPEC §8): both serve the whole API and the sync
 * stream; each one's memory follows the database's change log, so a write on one is enforced by
 * the other; a zone that lists both fails over and resumes with a delta.
 */
let pg: EmbeddedPostgresServer;
let a: Global;
let b: Global;
const dir = tempDir('meshauth-ha-');

const who = async (global: Global, token: string) => (await http('GET', `${global.url}/who-am-i`, { token })).status;
const revocations = async (global: Global) => {
  const result = await http('GET', `${global.url}/global-secrets/user-token-revocations`);
  return result.status === 404 ? [] : Buffer.from(result.json.data as string, 'base64').toString().split(',').sort();
};
const serials = async (global: Global) => ((await http('GET', `${global.url}/tokens/user/signing-keys`)).json.items as { serial: number }[]).map((k) => k.serial);

beforeAll(async () => {
  pg = await startEmbeddedPostgres();
  // Started together on an empty database: migrations, the first keys and the admin token happen once.
  [a, b] = await Promise.all([startGlobal('', pg.env), startGlobal('', pg.env)]);
}, 120_000);

afterAll(async () => {
  await stopAll();
  await pg?.stop();
  dir.remove();
});

describe('global replicas on PostgreSQL', () => {
  it('created one signing key and one admin token between them, and name themselves apart', async () => {
    expect(await serials(a)).toEqual([1]);
    expect(await serials(b)).toEqual([1]);
    expect(a.adminToken).toBe(b.adminToken);
    const [rootA, rootB] = [(await http('GET', `${a.url}/`)).json, (await http('GET', `${b.url}/`)).json];
    expect(rootA.store).toBe('postgres');
    expect(rootA.instance).not.toBe(rootB.instance);
    // Each replica lists both, from the instances they heartbeat into the store.
    for (const global of [a, b]) {
      await waitFor('both replicas listed', async () => {
        const listed = ((await http('GET', `${global.url}/replicas`)).json.items as { instance: string }[]).map((r) => r.instance).sort();
        return JSON.stringify(listed) === JSON.stringify([rootA.instance, rootB.instance].sort());
      }, 10_000);
    }
    expect(a.daemon.ready.store).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth$/);
    expect(a.daemon.output.join('\n')).not.toContain(pg.settings.password);
  });

  it('a token issued on one replica is verified on the other', async () => {
    const token = await issueUserToken(a.url, a.adminToken, 'john', ['team-a']);
    expect((await http('GET', `${b.url}/who-am-i`, { token })).json).toEqual({ name: 'john', groups: ['team-a', 'mesh-system:authenticated'] });
  });

  it('a revocation on one replica is enforced by the other', async () => {
    const token = await issueUserToken(b.url, b.adminToken, 'jane', ['team-b']);
    expect(await who(a, token)).toBe(200);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await http('POST', `${a.url}/tokens/user/revocations`, { token: a.adminToken, body: { jti } })).status).toBe(201);
    expect(await who(a, token)).toBe(401);
    await waitFor('replica b to refuse the revoked token', async () => (await who(b, token)) === 401, 5_000);
  });

  it('lists on each replica the user tokens issued on the other, and revokes them all by name from either', async () => {
    const onA = await issueUserToken(a.url, a.adminToken, 'ha-user', ['ha-team']);
    const onB = await issueUserToken(b.url, b.adminToken, 'ha-user', []);
    const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const [rootA, rootB] = [(await http('GET', `${a.url}/`)).json, (await http('GET', `${b.url}/`)).json];
    for (const replica of [a, b]) {
      const listed = (await http('GET', `${replica.url}/tokens/user?name=ha-user`, { token: replica.adminToken })).json;
      expect(listed.items.map((t: { jti: string }) => t.jti).sort()).toEqual([jtiOf(onA), jtiOf(onB)].sort());
      const byInstance = Object.fromEntries(listed.items.map((t: { jti: string; instance: string }) => [t.jti, t.instance]));
      expect(byInstance).toEqual({ [jtiOf(onA)]: rootA.instance, [jtiOf(onB)]: rootB.instance });
    }
    const revoked = await http('POST', `${b.url}/tokens/user/revocations`, { token: b.adminToken, body: { name: 'ha-user' } });
    expect(revoked.json).toMatchObject({ revoked: 2 });
    for (const replica of [a, b]) {
      for (const token of [onA, onB]) await waitFor('both replicas to refuse every ha-user token', async () => (await who(replica, token)) === 401, 5_000);
    }
    const audit = (await http('GET', `${a.url}/audit?action=user-token.revoke`, { token: a.adminToken })).json.items;
    expect(audit[0]).toMatchObject({ target: 'every token of user ha-user', result: 'revoked 2', instance: rootB.instance });
  });

  it('rotation on one replica is followed by the other: the new key signs there, the removed key verifies nothing', async () => {
    const old = await issueUserToken(a.url, a.adminToken, 'old', []);
    const created = await http('POST', `${a.url}/tokens/user/signing-keys`, { token: a.adminToken });
    expect(created.status).toBe(201);
    const serial = created.json.serial as number;
    await waitFor('replica b to hold the new key', async () => (await serials(b)).includes(serial), 5_000);
    const fresh = await issueUserToken(b.url, b.adminToken, 'new', []);
    expect(JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid).toBe(String(serial));
    expect(await who(a, fresh)).toBe(200);
    expect((await http('DELETE', `${b.url}/global-secrets/user-token-signing-key-1`)).status).toBe(200);
    await waitFor('replica a to refuse a token of the removed key', async () => (await who(a, old)) === 401, 5_000);
    expect((await http('GET', `${a.url}/who-am-i`, { token: old })).json.detail).toMatch(/rotated/);
  });

  it('concurrent revocations on both replicas are all kept, and both hold the same set', async () => {
    const before = await revocations(a);
    const jtis = Array.from({ length: 40 }, (_, i) => `concurrent-${i}`);
    const results = await Promise.all(jtis.map((jti, i) => http('POST', `${(i % 2 ? a : b).url}/tokens/user/revocations`, { body: { jti } })));
    expect(results.map((r) => r.status)).toEqual(jtis.map(() => 201));
    const expected = [...before, ...jtis].sort();
    await waitFor('both replicas to list every revocation', async () => JSON.stringify(await revocations(a)) === JSON.stringify(expected) && JSON.stringify(await revocations(b)) === JSON.stringify(expected), 5_000);
    // Both interfaces read the database: the versions both replicas applied are the same.
    const [va, vb] = await Promise.all([a, b].map(async (g) => (await http('GET', `${g.url}/metrics`)).text.match(/^meshauth_sync_version (\d+)/m)?.[1]));
    expect(va).toBe(vb);
  });

  it('one replica leads the periodic work', async () => {
    const leaders = () => [a, b].filter((g) => g.daemon.output.some((line) => line.includes('now runs the periodic work')));
    await waitFor('a leader', () => leaders().length === 1, 10_000);
  });
});

describe('a zone listing both replicas', () => {
  let zone: Awaited<ReturnType<typeof startZone>>;

  it('syncs through the first, lists once on both replicas with the instance holding its stream', async () => {
    const tokenFile = await writeZoneToken(a, dir.path, 'zone-ha');
    zone = await startZone('zone-ha', `${dir.path}/zone-ha.db`, { globalAddress: `${a.syncAddress},${b.syncAddress}`, tokenFile });
    await waitFor('zone synced', async () => (await syncStatus(zone)).appliedVersion > 0);
    const status = await syncStatus(zone);
    expect(status.globalAddress).toBe(a.syncAddress);
    expect(status.stats).toMatchObject({ snapshots: 1, nacks: 0 });
    const instanceA = (await http('GET', `${a.url}/`)).json.instance as string;
    for (const global of [a, b]) {
      await waitFor(`zone listed on ${global.url}`, async () => {
        const items = (await http('GET', `${global.url}/zones`)).json.items as Record<string, unknown>[];
        const mine = items.filter((z) => z.zone === 'zone-ha');
        return mine.length === 1 && mine[0]!.connected === true && mine[0]!.globalInstance === instanceA;
      }, 10_000);
    }
  });

  it('fails over to the other replica when its replica is SIGKILLed, resumes with a delta, and gets the next revocation', async () => {
    const token = await issueUserToken(b.url, '', 'after-failover', []);
    await waitFor('zone accepts the token', async () => (await who({ url: zone.url } as Global, token)) === 200);
    await a.daemon.kill();
    await waitFor('zone connected to replica b', async () => {
      const status = await syncStatus(zone);
      return status.state === 'connected' && status.globalAddress === b.syncAddress;
    }, 20_000);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    expect((await http('POST', `${b.url}/tokens/user/revocations`, { body: { jti } })).status).toBe(201);
    await waitFor('zone refuses the token revoked on replica b', async () => (await who({ url: zone.url } as Global, token)) === 401, 10_000);
    const status = await syncStatus(zone);
    expect(status.stats.snapshots).toBe(1);
    expect(status.stats.deltas).toBeGreaterThan(0);
    const instanceB = (await http('GET', `${b.url}/`)).json.instance as string;
    await waitFor('replica b lists the zone as its own', async () => {
      const items = (await http('GET', `${b.url}/zones`)).json.items as Record<string, unknown>[];
      return items.filter((z) => z.zone === 'zone-ha').length === 1 && items.find((z) => z.zone === 'zone-ha')!.globalInstance === instanceB;
    }, 10_000);
  });
});

describe('the database goes away', () => {
  it('verification keeps working, writes answer 503 naming the database, and the replica catches up when it returns', async () => {
    const token = await issueUserToken(b.url, '', 'outage', []);
    await pg.pause();
    // Verification is memory only: a burst of callers all get in while the database is away.
    expect(await Promise.all(Array.from({ length: 50 }, () => who(b, token)))).toEqual(Array.from({ length: 50 }, () => 200));
    const write = await http('POST', `${b.url}/tokens/user/revocations`, { body: { jti: 'during-outage' } });
    expect(write.status).toBe(503);
    expect(write.json.detail).toMatch(/PostgreSQL store postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth/);
    expect(write.text).not.toContain(pg.settings.password);
    await pg.resume();
    // The pool and LISTEN reconnect by themselves: a write goes through and memory follows it.
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    await waitFor('writes work again', async () => (await http('POST', `${b.url}/tokens/user/revocations`, { body: { jti } })).status === 201, 30_000, 200);
    expect(await who(b, token)).toBe(401);
    expect(await revocations(b)).not.toContain('during-outage');
  });
});

describe('leadership of the periodic work', () => {
  // The latest leadership line counts: a replica that led before the database outage above may
  // have lost the lease during it and not yet taken it back.
  const leads = (global: Global) => {
    const lines = global.daemon.output.filter((line) => line.includes('leader: this replica'));
    return lines.at(-1)?.includes('now runs the periodic work') ?? false;
  };

  it('moves to a surviving replica within seconds when the leader is SIGKILLed', async () => {
    // Replica a is gone (failover above): b leads now, whoever led before.
    await waitFor('replica b leads', () => leads(b), 15_000);
    const c = await startGlobal('', pg.env);
    expect(leads(c)).toBe(false);
    await b.daemon.kill();
    await waitFor('replica c leads', () => leads(c), 15_000);
  });
});
