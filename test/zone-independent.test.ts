import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, type Global } from './support/sync-cluster.js';

/** Sync off (the default): the zone is independent, as in Kuma, and the docs' manual key copy works. */
describe('zone with sync off', () => {
  const dir = tempDir();
  let global: Global;
  let zone: Daemon;

  beforeAll(async () => {
    [global, zone] = await Promise.all([startGlobal(join(dir.path, 'global.db')), startZone('zone-1', join(dir.path, 'zone.db'), { mode: 'off' })]);
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('has its own signing key and admin token, and global tokens do not work there', async () => {
    const zoneAdmin = await readAdminToken(zone.url);
    expect((await http('GET', `${zone.url}/who-am-i`, { token: zoneAdmin })).json.name).toBe('mesh-system:admin');
    expect((await http('GET', `${global.url}/who-am-i`, { token: zoneAdmin })).status).toBe(401);
    const zoneToken = await issueUserToken(zone.url, zoneAdmin, 'local', []);
    expect((await http('GET', `${zone.url}/who-am-i`, { token: zoneToken })).status).toBe(200);
    const globalToken = await issueUserToken(global.url, global.adminToken, 'alice', []);
    expect((await http('GET', `${zone.url}/who-am-i`, { token: globalToken })).status).toBe(401);
    expect(await syncStatus(zone)).toMatchObject({ state: 'disabled', mode: 'off' });
  });

  it("the docs' manual copy: global's user-token-signing-key-1 PUT into the zone makes global's tokens work there", async () => {
    const key = (await http('GET', `${global.url}/global-secrets/user-token-signing-key-1`, { token: global.adminToken })).json;
    expect(Buffer.from(key.data, 'base64').toString()).toContain('PRIVATE KEY');
    const put = await http('PUT', `${zone.url}/global-secrets/user-token-signing-key-1`, { body: { type: 'GlobalSecret', name: 'user-token-signing-key-1', data: key.data } });
    expect(put.status).toBeLessThan(300);
    const globalToken = await issueUserToken(global.url, global.adminToken, 'alice', ['dev']);
    expect((await http('GET', `${zone.url}/who-am-i`, { token: globalToken })).json).toEqual({ name: 'alice', groups: ['dev', 'mesh-system:authenticated'] });
  });
});
