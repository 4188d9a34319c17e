import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SYNC_MESSAGE_BYTES, readUuids, syncProto, UUID_BYTES } from '@meshauth/core';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { hello, openProbe, startGlobal, startZone, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const REVOCATIONS = 200_000;

/** SPEC 6: a big state syncs as a chunked snapshot (each message ≤ 1 MiB); each later change as a delta of itself. */
describe('200,000 revocations', () => {
  const dir = tempDir();
  let global: Global;
  let zone: Daemon;
  let revokedToken: string;
  const encodedSize = (message: object) => syncProto().GlobalSync.service.Sync.responseSerialize(message).length;
  const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'), { MESHAUTH_API_SERVER_BODY_LIMIT: String(32 * 1024 * 1024) });
    revokedToken = await issueUserToken(global.url, global.adminToken, 'revoked', []);
    const jtis: string[] = Array.from({ length: REVOCATIONS - 1 }, () => randomUUID());
    jtis.push(jtiOf(revokedToken));
    // The docs' interface: the whole list as one global secret.
    const put = await http('PUT', `${global.url}/global-secrets/user-token-revocations`, {
      body: { type: 'GlobalSecret', name: 'user-token-revocations', data: Buffer.from(jtis.join(',')).toString('base64') },
    });
    expect(put.status).toBeLessThan(300);
  }, 120_000);

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('a fresh zone syncs them all, in chunks of at most 1 MiB applied at once', async () => {
    const probe = openProbe(global.syncPort, readFileSync(await writeZoneToken(global, dir.path, 'probe'), 'utf8'));
    probe.send(hello('probe', 'SYNC_MODE_PUBLIC'));
    await waitFor('whole snapshot', () => probe.received.some((m) => m.batch?.last), 60_000);
    const chunks = probe.received.filter((m) => m.batch).map((m) => m.batch!);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((c) => c.kind === 'KIND_SNAPSHOT')).toBe(true);
    expect(chunks.map((c) => c.chunk)).toEqual(chunks.map((_, i) => i));
    // UUID jtis travel packed, 16 bytes each (about 3.4 MB for all of them, not 7.2 MB of strings).
    expect(chunks.reduce((n, c) => n + c.addedRevocations.length + c.addedUuidJtis.length / UUID_BYTES, 0)).toBe(REVOCATIONS);
    expect(chunks.reduce((n, c) => n + encodedSize({ batch: c }), 0)).toBeLessThan(REVOCATIONS * 18);
    for (const chunk of chunks) expect(encodedSize({ batch: chunk })).toBeLessThanOrEqual(MAX_SYNC_MESSAGE_BYTES);
    probe.close();

    zone = await startZone('zone-1', join(dir.path, 'zone.db'), { globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-1') });
    await waitFor(
      'zone holds every revocation',
      async () => (await http('GET', `${zone.url}/metrics`)).text.match(/meshauth_revocations\{[^}]*family="user-token"[^}]*\} (\d+)/)?.[1] === String(REVOCATIONS),
      60_000,
    );
    expect((await http('GET', `${zone.url}/who-am-i`, { token: revokedToken })).json.detail).toMatch(/revoked/);
    // The operator's view: a line when the snapshot starts arriving, one when it is applied.
    const receiving = await zone.waitForLog((l) => l.msg === 'sync: receiving snapshot');
    expect(receiving).toMatchObject({ chunks: 1, items: expect.any(Number), itemsPerSecond: expect.any(Number) });
    const applied = await zone.waitForLog((l) => l.msg === 'sync: snapshot applied');
    expect(applied).toMatchObject({ revocations: REVOCATIONS, keys: expect.any(Number), durationMs: expect.any(Number) });
    expect(applied.chunks as number).toBeGreaterThan(1);
    expect(applied.items).toBe((applied.keys as number) + REVOCATIONS);
  }, 120_000);

  it('one more revocation then travels as a small delta of that revocation alone', async () => {
    const probe = openProbe(global.syncPort, readFileSync(await writeZoneToken(global, dir.path, 'probe-2'), 'utf8'));
    probe.send(hello('probe-2', 'SYNC_MODE_PUBLIC'));
    await waitFor('whole snapshot', () => probe.received.some((m) => m.batch?.last), 60_000);
    const seen = probe.received.length;

    const token = await issueUserToken(global.url, global.adminToken, 'one-more', []);
    await waitFor('zone accepts it', async () => (await http('GET', `${zone.url}/who-am-i`, { token })).status === 200);
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { body: { token } })).status).toBe(201);

    const delta = await waitFor('delta', () => probe.received.slice(seen).find((m) => m.batch)?.batch);
    expect(delta).toMatchObject({ kind: 'KIND_DELTA', last: true, keys: [], removedJtis: [], addedRevocations: [], addedUuidExpiresAtMs: [expect.any(Number)] });
    expect(readUuids(delta.addedUuidJtis)).toEqual([jtiOf(token)]);
    expect(delta.toVersion).toBe(delta.fromVersion + 1);
    expect(encodedSize({ batch: delta })).toBeLessThan(256);
    probe.close();
    await waitFor('zone refuses it', async () => (await http('GET', `${zone.url}/who-am-i`, { token })).status === 401);
  });

  it('a bulk replace while the zone is connected (one reload row in the log) reaches it as a snapshot of the new list', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'bulk', []);
    await waitFor('zone accepts it', async () => (await http('GET', `${zone.url}/who-am-i`, { token })).status === 200);
    const next = [...Array.from({ length: 20_000 }, () => randomUUID()), jtiOf(token), 'not-a-uuid', randomUUID().toUpperCase()];
    const put = await http('PUT', `${global.url}/global-secrets/user-token-revocations`, {
      body: { type: 'GlobalSecret', name: 'user-token-revocations', data: Buffer.from(next.join(',')).toString('base64') },
    });
    expect(put.status).toBeLessThan(300);
    await waitFor(
      'zone holds the new list',
      async () => (await http('GET', `${zone.url}/metrics`)).text.match(/meshauth_revocations\{[^}]*family="user-token"[^}]*\} (\d+)/)?.[1] === String(next.length),
      60_000,
    );
    expect((await http('GET', `${zone.url}/who-am-i`, { token })).status).toBe(401);
    // The old list is gone: its revoked token is accepted again.
    expect((await http('GET', `${zone.url}/who-am-i`, { token: revokedToken })).status).toBe(200);
  }, 120_000);
});
