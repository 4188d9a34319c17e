import { afterEach, describe, expect, it } from 'vitest';
import { createApiApp, createLogger, createPlaneContext, loadConfig, SqliteStore, systemClock } from '@meshauth/core';
import { registerZonesRoute } from './zones-route.js';

/** GET /zones through the real fastify app (inject comes from 127.0.0.1 with Host localhost). */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function zonesApi(env: Record<string, string>) {
  const store = SqliteStore.open(':memory:');
  const ctx = await createPlaneContext({ instance: 'test-instance', plane: 'global', config: loadConfig({ env }), store, logger: createLogger({ level: 'silent', name: 'test' }), clock: systemClock });
  const zone = { zone: 'zone-1', connected: true };
  const app = createApiApp(ctx, { routes: (a) => registerZonesRoute(a, ctx.access, { list: () => [zone] as never, share: async () => {}, replicas: () => [] }) });
  closers.push(async () => {
    await app.close();
    ctx.families.feed.stop();
    await store.close();
  });
  return app;
}

describe('GET /zones', () => {
  it('lists the zones to an authenticated caller (here localhost admin)', async () => {
    const response = await (await zonesApi({})).inject({ method: 'GET', url: '/zones' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ items: [{ zone: 'zone-1', connected: true }] });
  });

  it('refuses the anonymous caller with 403 (requireAuthenticated), naming what was refused', async () => {
    const response = await (await zonesApi({ MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false' })).inject({ method: 'GET', url: '/zones' });
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toBe('user "mesh-system:anonymous" may not list zones; authenticate with a user token');
  });
});
