import { afterEach, describe, expect, it } from 'vitest';
import { createApiApp, createLogger, createPlaneContext, loadConfig, SqliteStore, systemClock } from '@meshauth/core';
import { registerSyncStatusRoute } from './sync-status-route.js';

/** GET /sync/status through the real fastify app (inject comes from 127.0.0.1 with Host localhost). */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function zoneApi(env: Record<string, string>) {
  const store = SqliteStore.open(':memory:');
  const config = loadConfig({ env: { MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1', ...env } });
  const ctx = await createPlaneContext({ instance: 'test-instance', plane: 'zone', config, store, logger: createLogger({ level: 'silent', name: 'test' }), clock: systemClock });
  const app = createApiApp(ctx, { routes: (a) => registerSyncStatusRoute(a, ctx, undefined, store.lease('zone-leader', 'test-instance')) });
  closers.push(async () => {
    await app.close();
    ctx.families.feed.stop();
    await store.close();
  });
  return app;
}

describe('GET /sync/status', () => {
  it('answers an authenticated caller (here localhost admin): sync is disabled without a global address', async () => {
    const response = await (await zoneApi({})).inject({ method: 'GET', url: '/sync/status' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ zone: 'zone-1', state: 'disabled', mode: 'off', globalAddress: null, leader: true, instance: 'test-instance', downPolicy: 'keep' });
  });

  it('refuses the anonymous caller with 403 (requireAuthenticated), naming what was refused', async () => {
    const response = await (await zoneApi({ MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false' })).inject({ method: 'GET', url: '/sync/status' });
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toBe('user "mesh-system:anonymous" may not read the sync status; authenticate with a user token');
  });
});
