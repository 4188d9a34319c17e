import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../clock.js';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../observability/logger.js';
import { ensureSigningKey } from '../../plane/bootstrap-credentials.js';
import { createPlaneContext } from '../../plane/create-plane-context.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import type { PlaneContext } from '../plane-context.js';
import { createApiApp } from '../create-api-app.js';

/** POST /tokens/user/revocations {"token"} through the real fastify app: only verified claims count. */
const NOW_MS = 1_636_725_274_000;
const clock = createManualClock(NOW_MS);
let store: SqliteStore;
let ctx: PlaneContext;
let app: FastifyInstance;

beforeAll(async () => {
  const logger = createLogger({ level: 'silent', name: 'test' });
  store = SqliteStore.open(':memory:');
  ctx = await createPlaneContext({ plane: 'global', config: loadConfig({ env: {} }), store, instance: 'test-instance', logger, clock });
  await ensureSigningKey(ctx.families.user.family, logger);
  // light-my-request comes from 127.0.0.1 with Host localhost: the localhost-admin rule applies.
  app = createApiApp(ctx);
});
afterAll(async () => {
  await app.close();
  ctx.families.feed.stop();
  await store.close();
});

const user = () => ctx.families.user;
const issue = (name: string, validForMs = 3_600_000) => user().issuer.issue({ Name: name, Groups: [] }, validForMs);
const revoke = (token: string) => app.inject({ method: 'POST', url: '/tokens/user/revocations', payload: { token } });
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const withClaims = (token: string, change: Record<string, unknown>) => {
  const [h, , s] = token.split('.');
  return `${h}.${Buffer.from(JSON.stringify({ ...payloadOf(token), ...change })).toString('base64url')}.${s}`;
};
const isRevoked = (token: string) => user().family.revocations.has(payloadOf(token).jti as string);

describe('revoking by token', () => {
  it("records a verified token's jti with its exp as the record's expiry", async () => {
    const token = await issue('anna');
    const response = await revoke(token);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ jti: payloadOf(token).jti, expiresAt: new Date((payloadOf(token).exp as number) * 1000).toISOString() });
    expect((await revoke(token)).statusCode).toBe(200);
  });

  it.each([
    ['exp moved to 1970 (the next prune would drop the record)', { exp: 1 }],
    ['another jti (it would revoke something else)', { jti: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses with 400 a copy of a real token with %s, and revokes nothing', async (_what, change) => {
    const token = await issue('bert');
    const forged = withClaims(token, change);
    const response = await revoke(forged);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      detail: 'token: user token signature is invalid',
      invalid_parameters: [{ field: 'token', reason: 'user token signature is invalid' }],
    });
    expect(isRevoked(token)).toBe(false);
    expect(isRevoked(forged)).toBe(false);
  });

  it('refuses with 400, as malformed, a re-spelled signature', async () => {
    const token = await issue('carl');
    const last = token.at(-1)!;
    const respelled = token.slice(0, -1) + String.fromCharCode(last.charCodeAt(0) + 1);
    const response = await revoke(respelled);
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toBe('token: user token is malformed: signature is not canonical base64url (unused bits set)');
  });

  it('revokes an expired token (its record then expired too) and a not yet valid one: the operator means that token', async () => {
    const expired = await issue('dora', 60_000);
    clock.set(NOW_MS + 3_600_000);
    const future = await issue('emil');
    clock.set(NOW_MS + 120_000);
    try {
      const response = await revoke(expired);
      expect(response.statusCode).toBe(201);
      expect(Date.parse(response.json().expiresAt)).toBeLessThan(clock.now());
      expect(isRevoked(expired)).toBe(true);
      expect((await revoke(future)).statusCode).toBe(201);
      expect(isRevoked(future)).toBe(true);
    } finally {
      clock.set(NOW_MS);
    }
  });

  it('revokes a token whose key is gone by its jti, with no expiry taken from its unverified exp', async () => {
    const token = await issue('fred');
    const forged = withClaims(token, { exp: 1 });
    const family = user().family;
    const old = family.keys.signer!.serial;
    await family.generateKey();
    await family.deleteKey(old);
    const response = await revoke(forged);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ jti: payloadOf(token).jti, expiresAt: null });
    clock.set(NOW_MS + 365 * 86_400_000);
    try {
      // Every record revoked above has expired by now and goes; fred's, with no expiry, stays.
      expect(await family.pruneExpiredRevocations()).toBeGreaterThan(0);
      expect(isRevoked(token)).toBe(true);
    } finally {
      clock.set(NOW_MS);
    }
    const noJti = withClaims(token, { jti: 7 });
    expect((await revoke(noJti)).json().detail).toMatch(/^token: has no jti claim \(and user token was signed with signing key \d+, which has been rotated out/);
  });
});
