import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir } from './support/daemon.js';
import { http } from './support/http.js';

/** "Disabling bootstrap of the admin user token" from the docs, across restarts. */
const dir = tempDir();
const store = { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' };
const bootstrapOff = { ...store, MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN: 'false' };

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const adminTokenSecret = (url: string) => http('GET', `${url}/global-secrets/admin-user-token`);

describe('MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN=false', () => {
  it('keeps a deleted admin-user-token deleted across restarts, while the signing key stays', async () => {
    let global = await startDaemon('global-cp', store);
    expect((await adminTokenSecret(global.url)).status).toBe(200);
    expect((await http('DELETE', `${global.url}/global-secrets/admin-user-token`)).status).toBe(200);
    expect(await global.stop()).toBe(0);

    for (let restart = 0; restart < 2; restart++) {
      global = await startDaemon('global-cp', bootstrapOff);
      const missing = await adminTokenSecret(global.url);
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ status: 404, detail: 'global secret admin-user-token not found' });
      expect((await http('GET', `${global.url}/tokens/user/signing-keys`)).json.items.map((k: { serial: number }) => k.serial)).toEqual([1]);
      expect(await global.stop()).toBe(0);
    }

    // With bootstrap back on, the next start creates a new one: the setting is what kept it away.
    global = await startDaemon('global-cp', store);
    expect((await adminTokenSecret(global.url)).status).toBe(200);
    expect(await global.stop()).toBe(0);
  }, 180_000);

  it('never creates one on a fresh store', async () => {
    const global = await startDaemon('global-cp', { ...bootstrapOff, MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'fresh.db') });
    expect((await adminTokenSecret(global.url)).status).toBe(404);
    expect((await http('GET', `${global.url}/global-secrets`)).json.items.map((s: { name: string }) => s.name)).toEqual(['user-token-signing-key-1', 'zone-token-signing-key-1']);
  });
});
