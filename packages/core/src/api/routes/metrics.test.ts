import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../clock.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { createPlaneContext } from '../../plane/create-plane-context.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { createApiApp } from '../create-api-app.js';

/** GET /metrics is served unless metrics.enabled is false. */
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function api(env: Record<string, string>) {
  const store = SqliteStore.open(':memory:');
  const ctx = await createPlaneContext({
    plane: 'zone',
    config: loadConfig({ env: { MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1', ...env } }),
    store,
    instance: 'test-instance',
    logger: createLogger({ level: 'silent', name: 'test' }),
    clock: systemClock,
  });
  const app = createApiApp(ctx);
  closers.push(async () => {
    await app.close();
    ctx.families.feed.stop();
    await store.close();
  });
  return app;
}

describe('GET /metrics', () => {
  it('serves Prometheus text by default', async () => {
    const response = await (await api({})).inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^# TYPE meshauth_signing_keys gauge$/m);
  });

  it('is not served with MESHAUTH_METRICS_ENABLED=false', async () => {
    const response = await (await api({ MESHAUTH_METRICS_ENABLED: 'false' })).inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
