import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, type Daemon } from '../../support/daemon.js';
import { readAdminToken } from '../../support/http.js';
import { waitFor } from '../../support/wait-for.js';
import { waitForLogSince } from '../support/log-watch.js';
import { startZone, syncStatus, type Zone } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';
import { readStore, userKeys, userRevocations } from '../support/store-snapshot.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Global's store is lost and replaced by a fresh one: new keys, no revocations, a new epoch. A zone
 * that synced from the old one must take a full snapshot of the new one and hold nothing of the
 * old (no old key still verifying, no mix of the two), not a delta on top of stale state.
 */
describe.skipIf(!zoneCpBuilt())("global's store replaced by a new one (new epoch)", () => {
  let oldGlobal: Plane;
  let newGlobal: Daemon | undefined;
  let proxy: TcpProxy;
  let zone: Zone;

  beforeAll(async () => {
    oldGlobal = await startPlane('global-cp');
    proxy = await startTcpProxy(oldGlobal.daemon.ready.syncPort as number);
  });

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    oldGlobal?.dir.remove();
  });

  it('the zone resyncs fully from the new store and keeps nothing of the old', async () => {
    zone = await startZone(oldGlobal, { name: 'zone-1', syncPort: proxy.port });
    const oldUser = (await jsonRequest('POST', `${oldGlobal.url}/tokens/user`, { name: 'old-user', validFor: '1h' }, oldGlobal.adminToken)).text;
    const revokedJti = 'revoked-on-the-old-global';
    expect((await jsonRequest('POST', `${oldGlobal.url}/tokens/user/revocations`, { jti: revokedJti }, oldGlobal.adminToken)).status).toBe(201);
    const oldEpoch = readStore(oldGlobal.storePath).epoch;
    await waitFor('the zone to sync from the old global', async () => (await syncStatus(zone.daemon.url)).appliedVersion >= Number(readStore(oldGlobal.storePath).version));
    expect((await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${oldUser}` } })).status).toBe(200);

    // The store is gone; a new global starts on an empty file at the same path, behind the same address.
    await oldGlobal.daemon.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${oldGlobal.storePath}${suffix}`, { force: true });
    newGlobal = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: oldGlobal.storePath });
    const newAdmin = await readAdminToken(newGlobal.url);
    const newEpoch = readStore(oldGlobal.storePath).epoch;
    expect(newEpoch).not.toBe(oldEpoch);
    // The old zone token was signed by a key that no longer exists: the operator hands the zone a new one.
    const zoneToken = await jsonRequest('POST', `${newGlobal.url}/tokens/zone`, { zone: 'zone-1', scope: ['cp'], validFor: '1h' }, newAdmin);
    writeFileSync(zone.tokenFile, zoneToken.text, { mode: 0o600 });
    const mark = newGlobal.output.length;
    proxy.setTargetPort(newGlobal.ready.syncPort as number);
    proxy.drop();
    proxy.restore();
    // If the zone reads its token file only at start, restart it: its persisted state is still the old epoch's.
    const reread = await waitForLogSince(newGlobal, mark, 'zone-1 to reach the new global', (l) => l.msg === 'sync: zone connected' || l.msg === 'sync: zone refused', 15_000).catch(() => undefined);
    if (reread?.msg !== 'sync: zone connected') {
      await zone.daemon.stop();
      zone = { ...zone, daemon: await startDaemon('zone-cp', zone.env) };
    }
    const snapshot = await waitForLogSince(newGlobal, mark, 'a snapshot for zone-1', (l) => l.msg === 'sync: sending snapshot' && l.zone === 'zone-1');
    expect(String(snapshot.reason)).toMatch(/epoch/);
    await waitFor('the zone to apply the new epoch', async () => {
      const s = await syncStatus(zone.daemon.url);
      return s.globalEpoch === newEpoch && s.state === 'connected' && s.appliedVersion >= Number(readStore(oldGlobal.storePath).version);
    });

    const globalState = readStore(oldGlobal.storePath);
    const zoneState = readStore(zone.storePath);
    expect(userKeys(zoneState)).toEqual(userKeys(globalState));
    expect(userRevocations(zoneState)).toEqual(userRevocations(globalState));
    expect(userRevocations(zoneState)).not.toContain(revokedJti);
    // Old tokens no longer verify on the zone; the new global's do.
    expect((await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${oldUser}` } })).status).toBe(401);
    const newUser = await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${newAdmin}` } });
    expect(newUser.json.name).toBe('mesh-system:admin');
  });
});
