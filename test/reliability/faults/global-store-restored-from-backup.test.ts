import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, type Daemon } from '../../support/daemon.js';
import { waitFor } from '../../support/wait-for.js';
import { waitForLogSince } from '../support/log-watch.js';
import { globalVersion, startZone, syncStatus, waitForZoneCaughtUp, type Zone } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';
import { backupStore, readStore, userKeys, userRevocations } from '../support/store-snapshot.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const jtiOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')).jti as string;

/**
 * Global is restored from a backup of its own store file: same epoch, an older version. It then
 * makes other changes until its version passes the zone's again, over a different history. The
 * zone must take a full snapshot and end with exactly the restored global's state; a delta would
 * keep what only the lost history had (a revocation, a key) and miss what the delta skips.
 */
describe.skipIf(!zoneCpBuilt())("global's store restored from a backup of itself (same epoch, other history)", () => {
  let global: Plane;
  let restored: Daemon | undefined;
  let proxy: TcpProxy;
  let zone: Zone;

  beforeAll(async () => {
    global = await startPlane('global-cp');
    proxy = await startTcpProxy(global.daemon.ready.syncPort as number);
  });

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    global?.dir.remove();
  });

  it('the zone takes a snapshot of the restored history and keeps nothing of the lost one', async () => {
    const issue = async (name: string) => (await jsonRequest('POST', `${global.url}/tokens/user`, { name, validFor: '1h' }, global.adminToken)).text;
    const revoke = async (url: string, body: object) => expect((await jsonRequest('POST', `${url}/tokens/user/revocations`, body, global.adminToken)).status).toBe(201);
    const onZone = async (jwt: string) => (await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${jwt}` } })).status;

    zone = await startZone(global, { name: 'zone-1', syncPort: proxy.port });
    await waitForZoneCaughtUp(global, zone.daemon.url);
    const tokenA = await issue('user-a');
    const tokenB = await issue('user-b');

    // The operator's backup, taken while global runs.
    const backup = join(global.dir.path, 'global-backup.db');
    await backupStore(global.storePath, backup);
    const epoch = readStore(global.storePath).epoch;

    // History that only the live store will have: A revoked, a second signing key. The zone applies it.
    await revoke(global.url, { token: tokenA });
    expect((await jsonRequest('POST', `${global.url}/tokens/user/signing-keys`, {}, global.adminToken)).status).toBe(201);
    const tokenOnLostKey = await issue('user-on-the-lost-key');
    const zoneAt = (await waitForZoneCaughtUp(global, zone.daemon.url)).appliedVersion as number;
    expect([await onZone(tokenA), await onZone(tokenOnLostKey)]).toEqual([401, 200]);

    // Global is restored from the backup. The zone cannot reach it until it has moved on.
    proxy.drop();
    await global.daemon.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${global.storePath}${suffix}`, { force: true });
    copyFileSync(backup, global.storePath);
    restored = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: global.storePath });
    expect(readStore(global.storePath).epoch).toBe(epoch);
    expect(globalVersion(global)).toBeLessThan(zoneAt);

    // Other changes, until the restored version passes the zone's: B revoked, then more.
    await revoke(restored.url, { token: tokenB });
    for (let i = 0; globalVersion(global) <= zoneAt; i++) await revoke(restored.url, { jti: `after-restore-${i}` });

    const mark = restored.output.length;
    proxy.setTargetPort(restored.ready.syncPort as number);
    proxy.restore();
    const sent = await waitForLogSince(restored, mark, 'global to bring zone-1 up to date', (l) => l.zone === 'zone-1' && (l.msg === 'sync: sending snapshot' || l.msg === 'sync: sent delta'));
    expect(sent.msg, `global sent ${JSON.stringify(sent)}`).toBe('sync: sending snapshot');
    expect(String(sent.reason)).toMatch(/different history/);
    await waitForZoneCaughtUp(global, zone.daemon.url);
    await waitFor('the zone to apply the restored version', async () => (await syncStatus(zone.daemon.url)).appliedVersion === globalVersion(global));

    const globalState = readStore(global.storePath);
    const zoneState = readStore(zone.storePath);
    expect(userKeys(zoneState)).toEqual(userKeys(globalState));
    expect(userRevocations(zoneState)).toEqual(userRevocations(globalState));
    expect(userRevocations(zoneState)).toContain(jtiOf(tokenB));
    expect(userRevocations(zoneState)).not.toContain(jtiOf(tokenA));
    // What the tokens say on the zone: A is valid again, B revoked, the lost key verifies nothing.
    expect([await onZone(tokenA), await onZone(tokenB), await onZone(tokenOnLostKey)]).toEqual([200, 401, 401]);
  });
});
