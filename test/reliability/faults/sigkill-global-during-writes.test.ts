import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, type Daemon } from '../../support/daemon.js';
import { recordLost } from '../support/ledger.js';
import { startZone, waitForZoneCaughtUp } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { rawRequest } from '../support/raw-http.js';
import { openStoreReadOnly, readStore } from '../support/store-snapshot.js';
import { startWriters } from '../support/acked-writes.js';
import { waitFor } from '../../support/wait-for.js';

describe('SIGKILL global while revocations and secrets are being written', () => {
  let plane: Plane | undefined;
  let restarted: Daemon | undefined;

  afterAll(async () => {
    await restarted?.stop();
    await plane?.dispose();
    await stopAll();
  });

  it('every write the API acknowledged is present after restart, through the API and in the file', async () => {
    plane = await startPlane('global-cp');
    const headers = { authorization: `Bearer ${plane.adminToken}` };
    const json = { ...headers, 'content-type': 'application/json' };
    const victim = await rawRequest(`${plane.url}/tokens/user`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'victim', validFor: '1h' }) });
    const writers = startWriters(plane.url, plane.adminToken, 8, 'killed');
    await waitFor('150 acknowledged writes', () => writers.acked.revocations.length + writers.acked.secrets.size >= 150);
    const revokeVictim = await rawRequest(`${plane.url}/tokens/user/revocations`, { method: 'POST', headers: json, body: JSON.stringify({ token: victim.text }) });
    expect(revokeVictim.status).toBe(201);
    await waitFor('300 acknowledged writes', () => writers.acked.revocations.length + writers.acked.secrets.size >= 300);
    // Mid-stream: eight requests are in flight at any moment.
    await plane.daemon.kill();
    await writers.stop();
    const { revocations, secrets } = writers.acked;

    const db = openStoreReadOnly(plane.storePath);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    restarted = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: plane.storePath });
    const list = await rawRequest(`${restarted.url}/global-secrets/user-token-revocations`, { headers });
    expect(list.status).toBe(200);
    const present = new Set(Buffer.from(list.json.data, 'base64').toString('utf8').split(','));
    const stored = readStore(plane.storePath);
    const storedSecrets = new Map(stored.secrets.map((s) => [s.name, s.data]));
    const missing = [
      ...revocations.filter((jti) => !present.has(jti)),
      ...[...secrets].filter(([name, data]) => storedSecrets.get(name) !== data).map(([name]) => name),
    ];
    recordLost(missing.length, `acknowledged writes missing after SIGKILL of global: ${missing.slice(0, 5).join(', ')}`);
    expect(missing).toEqual([]);
    expect(revocations.length).toBeGreaterThan(0);
    expect(secrets.size).toBeGreaterThan(0);
    // The restarted plane enforces what it kept: the token revoked mid-stream is refused.
    const victimUse = await rawRequest(`${restarted.url}/who-am-i`, { headers: { authorization: `Bearer ${victim.text}` } });
    expect(victimUse.status).toBe(401);
    expect(victimUse.json.detail).toMatch(/revoked/);
    // And it keeps accepting writes.
    const after = await rawRequest(`${restarted.url}/tokens/user/revocations`, { method: 'POST', headers: json, body: JSON.stringify({ jti: 'after-restart' }) });
    expect(after.status).toBe(201);
  });
});

describe.skipIf(!zoneCpBuilt())('SIGKILL global while revocations are written, with zones syncing', () => {
  let global: Plane | undefined;
  let proxy: TcpProxy | undefined;

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    global?.dir.remove();
  });

  it('after restart and reconnect, every zone holds every acknowledged revocation', async () => {
    global = await startPlane('global-cp');
    proxy = await startTcpProxy(global.daemon.ready.syncPort as number);
    const zones = await Promise.all(['zone-1', 'zone-2'].map((name) => startZone(global!, { name, syncPort: proxy!.port })));
    for (const zone of zones) await waitForZoneCaughtUp(global, zone.daemon.url);

    const writers = startWriters(global.url, global.adminToken, 8, 'killed-with-zones');
    await waitFor('300 acknowledged writes', () => writers.acked.revocations.length >= 300);
    await global.daemon.kill();
    await writers.stop();
    const { revocations } = writers.acked;

    // Same store, new process, new port: the proxy keeps the zones' address stable.
    const restarted = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: global.storePath });
    proxy.setTargetPort(restarted.ready.syncPort as number);
    const lost: Record<string, string[]> = {};
    for (const zone of zones) {
      await waitForZoneCaughtUp(global, zone.daemon.url);
      const held = new Set(readStore(zone.storePath).revocations.filter((r) => r.family === 'user-token').map((r) => r.jti));
      lost[zone.name] = revocations.filter((jti) => !held.has(jti));
    }
    recordLost(Object.values(lost).flat().length, 'acknowledged revocations missing on zones after SIGKILL of global');
    expect(lost).toEqual({ 'zone-1': [], 'zone-2': [] });
  });
});
