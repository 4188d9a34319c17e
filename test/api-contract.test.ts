/**
 * The OpenAPI contract of the three HTTP servers (global's and a zone's API server, the zone's
 * dp-server), built in-process as the daemons build them: every route registered (seen by an
 * onRoute hook) is in GET /openapi.json, the document is valid OpenAPI 3.1, and every answer the
 * servers give while each route is called matches what the document says of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createApiApp,
  createDpServerApp,
  createLogger,
  createPlaneContext,
  ensureSigningKey,
  issueDataplaneToken,
  loadConfig,
  SqliteStore,
  systemClock,
  type ApiApp,
  type PlaneContext,
} from '@meshauth/core';
import { globalApiRoutes, ZoneRegistry } from '@meshauth/global-cp';
import { registerSyncStatusRoute } from '@meshauth/zone-cp';
import { openApiPath, operationsOf, responseChecker, validateOpenApi, type OpenApiDocument, type ResponseCheck } from './support/openapi.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function planeContext(plane: 'global' | 'zone'): Promise<PlaneContext> {
  const store = SqliteStore.open(':memory:');
  const env: Record<string, string> = plane === 'zone' ? { MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' } : {};
  const logger = createLogger({ level: 'silent', name: 'test' });
  const ctx = await createPlaneContext({ plane, config: loadConfig({ env }), store, instance: `${plane}-instance`, logger, clock: systemClock });
  await ensureSigningKey(ctx.families.user.family, logger);
  cleanups.push(() => store.close(), () => ctx.families.feed.stop());
  return ctx;
}

/**
 * The app `build` makes, watched: the routes it registers and every answer it gives (route
 * template, status, media type, body), to be checked against its own document.
 */
async function watched(build: () => ApiApp) {
  const app = build();
  cleanups.push(() => app.close());
  const routes: string[] = [];
  const answers: ResponseCheck[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push(`${method} ${openApiPath(route.url)}`);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    const template = request.routeOptions.url;
    // A 404 for a path no route has is the not-found handler's: checked against every route's `default`.
    answers.push({ method: request.method, path: template === undefined ? '(none)' : openApiPath(template), status: reply.statusCode, contentType: String(reply.getHeader('content-type') ?? ''), body });
    return payload;
  });
  await app.ready();
  const call = async (method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) => {
    const response = await app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: response.statusCode, json: () => response.json() as Record<string, unknown>, body: response.body };
  };
  const document = async () => (await call('GET', '/openapi.json')).json() as unknown as OpenApiDocument;
  return { app, routes, answers, call, document };
}

/** Routes fastify adds by itself (HEAD beside each GET) are not operations of their own. */
function ownRoutes(routes: string[]): string[] {
  return [...new Set(routes.filter((r) => !(r.startsWith('HEAD ') && routes.includes(`GET ${r.slice(5)}`))))].sort();
}

/** Every route in the document and the document valid; every answer given matches it; every operation called. */
async function expectContract(server: Awaited<ReturnType<typeof watched>>) {
  const doc = await server.document();
  expect(doc.openapi).toBe('3.1.0');
  expect(await validateOpenApi(doc)).toEqual({ valid: true });
  expect(operationsOf(doc).sort()).toEqual(ownRoutes(server.routes));

  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const at = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(operation.responses);
      expect(statuses.some((s) => s.startsWith('2')), `${at}: a success response`).toBe(true);
      for (const status of statuses) expect(operation.responses[status]!.content, `${at} ${status}: a body`).toBeDefined();
      expect(operation.responses['default']!.content!['application/problem+json']!.schema, `${at}: errors are Problem`).toEqual({ $ref: expect.stringMatching(/^#\/components\/schemas\/(Bootstrap)?Problem$/) });
      if (method === 'post' || method === 'put') expect(operation.requestBody ?? path === '/tokens/user/signing-keys', `${at}: a request body`).toBeTruthy();
    }
  }

  const check = responseChecker(doc);
  const mismatches = server.answers.filter((a) => a.path !== '(none)').map(check).filter((m) => m !== undefined);
  expect(mismatches).toEqual([]);
  const called = new Set(server.answers.map((a) => `${a.method} ${a.path}`));
  expect(operationsOf(doc).filter((op) => !called.has(op))).toEqual([]);
  return doc;
}

/** Calls every route both planes serve, successes and the usual refusals. */
async function callCoreRoutes(call: Awaited<ReturnType<typeof watched>>['call'], plane: 'global' | 'zone') {
  expect((await call('GET', '/')).status).toBe(200);
  expect((await call('GET', '/who-am-i')).status).toBe(200);
  expect((await call('POST', '/tokens/dataplane', { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, validFor: '1h' })).status).toBe(plane === 'global' ? 409 : 200);
  expect((await call('POST', '/tokens/dataplane', { name: 'web-1', mesh: 'Not A Mesh', validFor: 'forever' })).status).toBe(400);
  expect((await call('GET', '/tokens/user/signing-keys')).status).toBe(200);
  expect((await call('GET', '/.well-known/jwks.json')).status).toBe(200);
  expect((await call('POST', '/tokens/user/revocations', { jti: 'jti-1' })).status).toBe(201);
  expect((await call('POST', '/tokens/user/revocations', { jti: 'jti-1' })).status).toBe(200);
  expect((await call('POST', '/tokens/user/revocations', { name: 'nobody' })).status).toBe(200);
  expect((await call('GET', '/tokens/user/revocations?limit=5')).status).toBe(200);
  expect((await call('GET', '/tokens/user/revocations?limit=500')).status).toBe(400);
  expect((await call('PUT', '/global-secrets/s1', { type: 'GlobalSecret', name: 's1', data: 'aGk=' })).status).toBe(201);
  expect((await call('PUT', '/global-secrets/s1', { data: 'aGk=' })).status).toBe(200);
  expect((await call('GET', '/global-secrets')).status).toBe(200);
  expect((await call('GET', '/global-secrets/s1')).status).toBe(200);
  expect((await call('DELETE', '/global-secrets/s1')).status).toBe(200);
  expect((await call('GET', '/global-secrets/s1')).status).toBe(404);
  expect((await call('PUT', '/meshes/default/secrets/s2', { type: 'Secret', mesh: 'default', name: 's2', data: 'aGk=' })).status).toBe(201);
  expect((await call('GET', '/meshes/default/secrets')).status).toBe(200);
  expect((await call('GET', '/meshes/default/secrets/s2')).status).toBe(200);
  expect((await call('DELETE', '/meshes/default/secrets/s2?force=false')).status).toBe(200);
  expect((await call('GET', '/changes?limit=3')).status).toBe(200);
  for (const path of ['/gui', '/gui/', '/gui/status.js', '/gui/status.css']) expect((await call('GET', path)).status).toBe(200);
  expect((await call('GET', '/tokens/user?name=jane')).status).toBe(200);
  expect((await call('GET', '/audit?size=5')).status).toBe(200);
  expect((await call('GET', '/audit?since=yesterday')).status).toBe(400);
  expect((await call('GET', '/metrics')).status).toBe(200);
  expect((await call('GET', '/who-am-i', undefined, { authorization: 'Bearer not.a.token' })).status).toBe(401);
  expect((await call('GET', '/no-such-route')).status).toBe(404);
}

describe('OpenAPI at GET /openapi.json', () => {
  it("global's API server: every route, documented and answering as documented", async () => {
    const ctx = await planeContext('global');
    await ensureSigningKey(ctx.families.zone.family, ctx.logger);
    const registry = new ZoneRegistry({ store: ctx.store, instance: ctx.instance, clock: ctx.clock, logger: ctx.logger, globalVersion: () => ctx.families.feed.version });
    const global = await watched(() => createApiApp(ctx, { routes: globalApiRoutes(ctx, registry) }));
    await callCoreRoutes(global.call, 'global');
    expect((await global.call('POST', '/tokens/user', { name: 'jane', groups: ['ops'], validFor: '1h' })).status).toBe(200);
    expect((await global.call('POST', '/tokens/user/signing-keys')).status).toBe(201);
    expect((await global.call('POST', '/tokens/zone', { zone: 'zone-1', scope: ['cp'], validFor: '1h' })).status).toBe(200);
    expect((await global.call('POST', '/tokens/zone-ingress', { zone: 'zone-1', validFor: '1h' })).status).toBe(200);
    registry.connected('zone-1', {}, 'public', 0, '0.1.0');
    expect((await global.call('GET', '/zones')).json()).toMatchObject({ items: [{ zone: 'zone-1', connected: true }] });
    expect((await global.call('GET', '/replicas')).status).toBe(200);

    const doc = await expectContract(global);
    expect(Object.keys(doc.components!.schemas!)).toEqual(['Problem']);
    expect(doc.paths['/zones']).toBeDefined();
    expect(doc.paths['/sync/status']).toBeUndefined();
    // Not a route here, so not in the document, but its 404 says where to ask.
    expect((await global.call('GET', '/sync/status')).json()).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND', detail: expect.stringContaining('ask the zone control plane') });
  });

  it("a zone's API server: every route, documented and answering as documented", async () => {
    const ctx = await planeContext('zone');
    const zone = await watched(() => createApiApp(ctx, { routes: (app) => registerSyncStatusRoute(app, ctx, undefined, ctx.store.lease('zone-leader', ctx.instance)) }));
    await callCoreRoutes(zone.call, 'zone');
    expect((await zone.call('POST', '/tokens/user', { name: 'jane', validFor: '1h' })).status).toBe(200);
    expect((await zone.call('POST', '/tokens/user/signing-keys')).status).toBe(201);
    expect((await zone.call('GET', '/sync/status')).json()).toMatchObject({ state: 'disabled', zone: 'zone-1' });

    const doc = await expectContract(zone);
    expect(doc.paths['/zones']).toBeUndefined();
    expect((await zone.call('GET', '/zones')).json()).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND', detail: expect.stringContaining('ask the global control plane') });
    expect((await zone.call('GET', '/replicas')).json()).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND', detail: expect.stringContaining('ask the global control plane') });
  });

  it("the zone's dp-server: /bootstrap and its refusals, documented and answering as documented", async () => {
    const ctx = await planeContext('zone');
    const dp = await watched(() => createDpServerApp(ctx));
    const token = await issueDataplaneToken(
      { families: ctx.families, records: ctx.issuedTokens, zone: 'zone-1', logger: ctx.logger },
      { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validForMs: 3_600_000 },
      { issuedBy: 'test' },
    );
    expect((await dp.call('POST', '/bootstrap', { mesh: 'default', name: 'web-1', dataplaneToken: token })).status).toBe(200);
    const refused = await dp.call('POST', '/bootstrap', { mesh: 'default', name: 'web-2', dataplaneToken: token });
    expect(refused.json()).toMatchObject({ status: 401, code: 'ERR_TOKEN_CLAIMS', reason: 'other-name' });
    expect((await dp.call('POST', '/bootstrap', { mesh: '', name: '' })).json()).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST' });

    const doc = await expectContract(dp);
    expect(Object.keys(doc.paths).sort()).toEqual(['/bootstrap', '/openapi.json']);
    expect(Object.keys(doc.components!.schemas!).sort()).toEqual(['BootstrapProblem', 'Problem']);
  });
});
