import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../clock.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { ensureSigningKey } from '../../plane/bootstrap-credentials.js';
import { createPlaneContext } from '../../plane/create-plane-context.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { decodeJws } from '../../tokens/jws-rs256.js';
import { verifyBootstrap } from '../../dataplane/verify-bootstrap.js';
import { createApiApp } from '../create-api-app.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A zone's (or global's) API app over a real SQLite file; team-a may generate dataplane tokens. */
async function zoneApi(zone = 'zone-1', plane: 'zone' | 'global' = 'zone') {
  const dir = mkdtempSync(join(tmpdir(), 'meshauth-dp-api-'));
  const store = SqliteStore.open(join(dir, 'zone.db'));
  const config = loadConfig({
    env: {
      ...(plane === 'zone' ? { MESHAUTH_MULTIZONE_ZONE_NAME: zone } : {}),
      MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false',
      MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'team-a',
    },
  });
  const ctx = await createPlaneContext({ plane, config, store, instance: 'test-instance', logger, clock: systemClock });
  await ensureSigningKey(ctx.families.user.family, logger);
  const app: FastifyInstance = createApiApp(ctx);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => ctx.families.feed.stop(), () => app.close());
  const userToken = (name: string, groups: string[]) => ctx.families.user.issuer.issue({ Name: name, Groups: groups }, 3_600_000);
  const post = async (body: unknown, token?: string) =>
    app.inject({ method: 'POST', url: '/tokens/dataplane', payload: body as object, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { ctx, app, store, userToken, post };
}

const body = { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'], version: ['v1', 'v2'] }, type: 'dataplane', validFor: '1h' };

describe('POST /tokens/dataplane', () => {
  it('issues a text/plain JWT with the dataplane claims, signed by the mesh key it creates', async () => {
    const zone = await zoneApi();
    const token = await zone.userToken('alice', ['team-a']);
    const response = await zone.post(body, token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const { header, payload } = decodeJws(response.body);
    expect(header).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(payload).toMatchObject({ Name: 'web-1', Mesh: 'default', Tags: body.tags, Type: 'dataplane', Zone: 'zone-1' });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
    expect((await zone.store.read.listKeys('dataplane-token/default')).map((k) => k.serial)).toEqual([1]);
    expect(verifyBootstrap(zone.ctx.families, 'zone-1', { mesh: 'default', name: 'web-1', dataplaneToken: response.body }).tags).toEqual(body.tags);
    expect(await zone.store.read.listAudit({ limit: 10 })).toContainEqual(
      expect.objectContaining({ action: 'dataplane-token.generate', actor: 'alice', target: 'dataplane web-1 in mesh default (type dataplane)', plane: 'zone' }),
    );
  });

  it('on global: 409 saying to ask the zone, after the access check, and no mesh key is made', async () => {
    const global = await zoneApi('', 'global');
    const refused = await global.post(body, await global.userToken('alice', ['team-a']));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toBe(
      "global does not issue dataplane tokens: a dataplane token is checked by the dp-server of the zone it names, with that zone's keys; ask the zone control plane (POST /tokens/dataplane on its API, or meshctl with the zone as the control plane)",
    );
    expect((await global.post(body, await global.userToken('bob', ['team-b']))).statusCode).toBe(403);
    expect(await global.store.read.listKeys('dataplane-token/default')).toEqual([]);
  });

  it('defaults tags to none and type to dataplane', async () => {
    const zone = await zoneApi();
    const response = await zone.post({ name: 'web-1', mesh: 'default', validFor: '10m' }, await zone.userToken('alice', ['team-a']));
    expect(response.statusCode).toBe(200);
    expect(decodeJws(response.body).payload).toMatchObject({ Tags: {}, Type: 'dataplane' });
  });

  it('refuses users outside access.static.generateDpToken with 403, and anonymous callers too', async () => {
    const zone = await zoneApi();
    const refused = await zone.post(body, await zone.userToken('bob', ['team-b']));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ status: 403, detail: expect.stringMatching(/user "bob".*not allowed to generateDpToken/) });
    expect((await zone.post(body)).statusCode).toBe(403);
    expect(await zone.store.read.listKeys('dataplane-token/default')).toEqual([]);
  });

  it.each([
    [{ ...body, mesh: 'Not_A_Mesh' }, 'mesh'],
    [{ ...body, name: '' }, 'name'],
    [{ ...body, tags: { service: 'web' } }, 'tags.service'],
    [{ ...body, tags: { service: [] } }, 'tags.service'],
    [{ ...body, type: 'gateway' }, 'type'],
    [{ ...body, extra: 1 }, 'extra'],
    [{ ...body, validFor: 'forever' }, 'validFor'],
    [{ ...body, validFor: '0s' }, 'validFor'],
    [{ ...body, validFor: '9000h' }, 'validFor'],
    [{ name: 'web-1', validFor: '1h' }, 'mesh'],
  ])('answers 400 problem+json naming the field for %j', async (bad, field) => {
    const zone = await zoneApi();
    const response = await zone.post(bad, await zone.userToken('alice', ['team-a']));
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().invalid_parameters.map((p: { field: string }) => p.field)).toContain(field);
  });

  it('shows the mesh keys and revocations as mesh secrets, the docs way', async () => {
    const zone = await zoneApi();
    const alice = await zone.userToken('alice', ['team-a']);
    const dpToken = (await zone.post(body, alice)).body;
    const admin = await zone.userToken('mesh-system:admin', ['mesh-system:admin']);
    const auth = { authorization: `Bearer ${admin}` };
    const list = await zone.app.inject({ method: 'GET', url: '/meshes/default/secrets', headers: auth });
    expect(list.json().items.map((s: { name: string }) => s.name)).toEqual(['dataplane-token-signing-key-default-1']);
    const jti = decodeJws(dpToken).payload.jti as string;
    const put = await zone.app.inject({
      method: 'PUT',
      url: '/meshes/default/secrets/dataplane-token-revocations-default',
      headers: auth,
      payload: { type: 'Secret', mesh: 'default', name: 'dataplane-token-revocations-default', data: Buffer.from(jti).toString('base64') },
    });
    expect(put.statusCode).toBe(201);
    expect(() => verifyBootstrap(zone.ctx.families, 'zone-1', { mesh: 'default', name: 'web-1', dataplaneToken: dpToken })).toThrow(/revoked/);
    // Global secrets do not show dataplane keys: they are the mesh's, not the user family's.
    const globals = await zone.app.inject({ method: 'GET', url: '/global-secrets', headers: auth });
    expect(globals.json().items.map((s: { name: string }) => s.name).filter((n: string) => n.startsWith('dataplane'))).toEqual([]);
  });
});
