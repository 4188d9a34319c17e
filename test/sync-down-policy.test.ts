import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/** MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY=deny-after:<d>: synced keys stop counting after d without global. */
describe('down policy deny-after', () => {
  const dir = tempDir();
  const globalDb = join(dir.path, 'global.db');
  let global: Global;
  let zone: Daemon;
  let token: string;

  beforeAll(async () => {
    global = await startGlobal(globalDb);
    zone = await startZone('zone-1', join(dir.path, 'zone.db'), {
      globalAddress: global.syncAddress,
      tokenFile: await writeZoneToken(global, dir.path, 'zone-1'),
      env: { MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY: 'deny-after:2s' },
    });
    token = await issueUserToken(global.url, global.adminToken, 'alice', []);
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const whoAmI = () => http('GET', `${zone.url}/who-am-i`, { token });

  it('refuses synced-key tokens once global has been silent too long, and accepts them again after reconnecting', async () => {
    await waitFor('token accepted while connected', async () => (await whoAmI()).status === 200);
    await global.daemon.kill();
    const refused = await waitFor('token refused after 2s without global', async () => {
      const r = await whoAmI();
      return r.status === 401 && r.json;
    });
    expect(refused.detail).toMatch(/has not heard from .*deny-after:2s/);
    global = await startGlobal(globalDb, { MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: String(global.syncPort) });
    await waitFor('token accepted after reconnecting', async () => (await whoAmI()).status === 200);
  });
});
