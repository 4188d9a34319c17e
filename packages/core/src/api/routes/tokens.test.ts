import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../clock.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { ensureSigningKey } from '../../plane/bootstrap-credentials.js';
import { createPlaneContext } from '../../plane/create-plane-context.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { decodeJws } from '../../tokens/jws-rs256.js';
import { createApiApp } from '../create-api-app.js';

/** POST /tokens/user through the real fastify app (inject): what it accepts and how it refuses. */
const logger = createLogger({ level: 'silent', name: 'test' });
const clock = createManualClock(1_636_725_274_000);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function globalApi(env: Record<string, string> = {}, userTokenIssuingRefusal?: () => string | undefined, perTest = true) {
  const store = SqliteStore.open(':memory:');
  const ctx = await createPlaneContext({
    plane: 'global',
    config: loadConfig({ env }),
    store,
    instance: 'test-instance',
    logger,
    clock,
    ...(userTokenIssuingRefusal ? { userTokenIssuingRefusal } : {}),
  });
  await ensureSigningKey(ctx.families.user.family, logger);
  const app: FastifyInstance = createApiApp(ctx);
  // light-my-request comes from 127.0.0.1 with Host localhost: the localhost-admin rule applies.
  const issue = (payload: unknown) => app.inject({ method: 'POST', url: '/tokens/user', payload: payload as object });
  const close = async () => {
    await app.close();
    ctx.families.feed.stop();
    await store.close();
  };
  if (perTest) cleanups.push(close);
  return { ctx, app, issue, close };
}

let sharedApi: ReturnType<typeof globalApi> | undefined;
/** One default app for the tests that do not configure anything: RSA key generation is slow here. */
const shared = () => (sharedApi ??= globalApi({}, undefined, false));
afterAll(async () => {
  await (await sharedApi)?.close();
});

describe('POST /tokens/user', () => {
  it('answers a text/plain JWT with the given name and groups, counting it', async () => {
    const api = await globalApi();
    const response = await api.issue({ name: 'john', groups: ['team-a', 'team-b'], validFor: '1h30m' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const { header, payload } = decodeJws(response.body);
    expect(header).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(payload).toMatchObject({ Name: 'john', Groups: ['team-a', 'team-b'], iat: 1_636_725_274, exp: 1_636_725_274 + 5_400 });
    expect((await api.ctx.metrics.tokensIssued.get()).values).toEqual([{ labels: { kind: 'user' }, value: 1 }]);
  });

  it('defaults groups to none', async () => {
    const api = await shared();
    expect(decodeJws((await api.issue({ name: 'john', validFor: '1h' })).body).payload.Groups).toEqual([]);
  });

  it.each([
    [{ name: 'john' }, 'validFor'],
    [{ name: 'john', validFor: '' }, 'validFor'],
    [{ name: 'john', validFor: '24' }, 'validFor'],
    [{ name: 'john', validFor: '1d' }, 'validFor'],
    [{ name: 'john', validFor: '0s' }, 'validFor'],
    [{ name: 'john', validFor: '500ms' }, 'validFor'],
    [{ name: 'john', validFor: '-1h' }, 'validFor'],
    [{ name: 'john', validFor: '8761h' }, 'validFor'],
    [{ name: 'john', validFor: 86_400 }, 'validFor'],
    [{ validFor: '1h' }, 'name'],
    [{ name: '', validFor: '1h' }, 'name'],
    [{ name: 'john', groups: 'team-a', validFor: '1h' }, 'groups'],
    [{ name: 'john', groups: [''], validFor: '1h' }, 'groups.0'],
    [{ name: 'john', validFor: '1h', admin: true }, 'admin'],
  ])('refuses %j with 400 naming %s', async (payload, field) => {
    const api = await shared();
    const response = await api.issue(payload);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(problem.invalid_parameters.map((p: { field: string }) => p.field)).toContain(field);
  });

  it('names an unknown field as not known', async () => {
    const response = await (await shared()).issue({ name: 'john', validFor: '1h', admin: true });
    expect(response.json().invalid_parameters).toEqual([{ field: 'admin', reason: 'is not a known field' }]);
  });

  it('refuses validFor above the configured maximum, saying what it is', async () => {
    const api = await globalApi({ MESHAUTH_API_SERVER_AUTHN_TOKENS_MAX_VALID_FOR: '1h' });
    expect((await api.issue({ name: 'john', validFor: '1h' })).statusCode).toBe(200);
    const response = await api.issue({ name: 'john', validFor: '61m' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'ERR_BAD_REQUEST', detail: 'invalid body: validFor must be at most 1h, got "61m"' });
  });

  it('names every invalid field, the duration checks included, with the code and the request id', async () => {
    const response = await (await shared()).issue({ name: '', validFor: 'forever' });
    expect(response.statusCode).toBe(400);
    const problem = response.json();
    expect(problem.invalid_parameters).toEqual([
      { field: 'name', reason: 'must NOT have fewer than 1 characters' },
      { field: 'validFor', reason: 'invalid duration "forever": expected a Go duration such as "24h" or "1h30m"' },
    ]);
    expect(problem).toMatchObject({ status: 400, code: 'ERR_BAD_REQUEST', instance: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const tooShort = (await (await shared()).issue({ name: 'john', groups: [''], validFor: '0s' })).json();
    expect(tooShort.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(['groups.0', 'validFor']);
  });

  it('answers 409 with the reason where this plane may not issue user tokens', async () => {
    const api = await globalApi({}, () => 'user tokens are issued by the global control plane');
    const response = await api.issue({ name: 'john', validFor: '1h' });
    expect(response.statusCode).toBe(409);
    expect(response.json().detail).toBe('user tokens are issued by the global control plane');
  });

  it('refuses bad JSON and a non-JSON body with 400 problem+json', async () => {
    const api = await shared();
    const badJson = await api.app.inject({ method: 'POST', url: '/tokens/user', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.headers['content-type']).toMatch(/^application\/problem\+json/);
    const text = await api.app.inject({ method: 'POST', url: '/tokens/user', headers: { 'content-type': 'text/plain' }, payload: 'john' });
    expect(text.statusCode).toBe(400);
    expect(text.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
