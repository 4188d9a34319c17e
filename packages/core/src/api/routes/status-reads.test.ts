import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../clock.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { ensureSigningKey } from '../../plane/bootstrap-credentials.js';
import { createPlaneContext } from '../../plane/create-plane-context.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { RevocationSet } from '../../tokens/revocation-set.js';
import type { PlaneContext } from '../plane-context.js';
import { createApiApp } from '../create-api-app.js';
import { guiContentSecurityPolicy } from './gui.js';

/** What the status page reads (revocations, changes) and serves (/gui), through the real fastify app. */
const clock = createManualClock(1_700_000_000_000);
let store: SqliteStore;
let ctx: PlaneContext;
let app: FastifyInstance;
let userToken: string;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'test' });
  store = SqliteStore.open(':memory:');
  ctx = await createPlaneContext({ plane: 'global', config: loadConfig({ env: {} }), store, instance: 'test-instance', logger, clock });
  await ensureSigningKey(ctx.families.user.family, logger);
  // Three revocations a second apart: newest first is then a known order.
  for (const jti of ['first', 'second', 'third']) {
    await ctx.families.user.family.revoke(jti, null);
    clock.advance(1000);
  }
  userToken = await ctx.families.user.issuer.issue({ Name: 'jane', Groups: ['team-a'] }, 3_600_000);
  // light-my-request comes from 127.0.0.1 with Host localhost: the localhost-admin rule applies.
  app = createApiApp(ctx);
});
afterAll(async () => {
  await app.close();
  ctx.families.feed.stop();
  await store.close();
});

const get = (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /tokens/user/revocations', () => {
  it('counts every revocation and lists the newest first, as many as asked', async () => {
    const response = await get('/tokens/user/revocations?limit=2');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      count: 3,
      items: [
        { jti: 'third', revokedAt: new Date(1_700_000_002_000).toISOString(), expiresAt: null },
        { jti: 'second', revokedAt: new Date(1_700_000_001_000).toISOString(), expiresAt: null },
      ],
    });
  });

  it('finds one record by jti, or none', async () => {
    expect((await get('/tokens/user/revocations?jti=first')).json().items.map((r: { jti: string }) => r.jti)).toEqual(['first']);
    expect((await get('/tokens/user/revocations?jti=absent')).json()).toEqual({ count: 3, items: [] });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['jti=a&other=1', 'other'],
  ])('refuses %s with 400 naming the parameter', async (query, field) => {
    const response = await get(`/tokens/user/revocations?${query}`);
    expect(response.statusCode).toBe(400);
    expect(response.json().invalid_parameters.map((p: { field: string }) => p.field)).toContain(field);
  });

  it('needs adminResources: a user token without it gets 403 naming the user', async () => {
    const response = await get('/tokens/user/revocations', userToken);
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toContain('user "jane"');
  });
});

describe('GET /changes', () => {
  it('lists the newest versions first with what changed in each', async () => {
    const response = await get('/changes?limit=2');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.items.map((v: { version: number }) => v.version)).toEqual([body.version, body.version - 1]);
    expect(body.items[0]).toEqual({
      version: body.version,
      committedAt: new Date(1_700_000_002_000).toISOString(),
      changes: [{ family: 'user-token', entity: 'revocation', ref: 'third', op: 'put' }],
      more: false,
    });
  });

  it('shows at most five items of a large version and says there are more', async () => {
    await ctx.families.user.family.replaceRevocations(RevocationSet.of(Array.from({ length: 8 }, (_, i) => `bulk-${i}`)));
    const [newest] = (await get('/changes?limit=1')).json().items;
    expect(newest.changes).toHaveLength(5);
    expect(newest.more).toBe(true);
  });

  it('needs adminResources', async () => {
    expect((await get('/changes', userToken)).statusCode).toBe(403);
  });
});

describe('GET /gui', () => {
  it.each([
    ['/gui', 'text/html'],
    ['/gui/', 'text/html'],
    ['/gui/status.js', 'text/javascript'],
    ['/gui/status.css', 'text/css'],
  ])('serves %s to anyone with the CSP, nosniff and no framing', async (url, type) => {
    const response = await app.inject({ method: 'GET', url, remoteAddress: '203.0.113.9' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain(type);
    expect(response.headers['content-security-policy']).toBe(guiContentSecurityPolicy);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
  });
});
