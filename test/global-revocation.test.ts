import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { waitFor } from './support/wait-for.js';

/** Revoking user tokens: the docs' GlobalSecret interface and the first-class endpoint. */
const dir = tempDir();
const env = { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' };
let global: Daemon;
let admin: string;

beforeAll(async () => {
  global = await startDaemon('global-cp', env);
  admin = await readAdminToken(global.url);
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const jtiOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
const expOf = (token: string): number => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp;
const whoAmI = (token: string) => http('GET', `${global.url}/who-am-i`, { token });
const readRevocations = async () => {
  const result = await http('GET', `${global.url}/global-secrets/user-token-revocations`, { token: admin });
  return result.status === 404 ? undefined : Buffer.from(result.json.data, 'base64').toString();
};
const putRevocations = (jtis: string[]) =>
  http('PUT', `${global.url}/global-secrets/user-token-revocations`, {
    token: admin,
    body: { type: 'GlobalSecret', name: 'user-token-revocations', data: Buffer.from(jtis.join(',')).toString('base64') },
  });

async function expectRevoked(token: string): Promise<void> {
  const result = await whoAmI(token);
  expect(result.status).toBe(401);
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(result.json).toMatchObject({ status: 401, detail: 'user token is revoked' });
}

describe("revocation through the docs' user-token-revocations GlobalSecret", () => {
  it('makes the token 401 on the very next request and reads back as the set', async () => {
    const john = await issueUserToken(global.url, admin, 'john', ['team-a']);
    const jane = await issueUserToken(global.url, admin, 'jane', []);
    expect((await whoAmI(john)).json.name).toBe('john');
    expect(await readRevocations()).toBeUndefined();

    expect((await putRevocations([jtiOf(john), 'some-old-jti'])).status).toBe(201);
    await expectRevoked(john);
    expect((await whoAmI(jane)).json.name).toBe('jane');
    expect((await readRevocations())!.split(',').sort()).toEqual([jtiOf(john), 'some-old-jti'].sort());
  });

  it('replaces the set when written again', async () => {
    const bob = await issueUserToken(global.url, admin, 'bob', []);
    expect((await putRevocations([jtiOf(bob)])).status).toBe(200);
    await expectRevoked(bob);
    expect(await readRevocations()).toBe(jtiOf(bob));

    expect((await http('DELETE', `${global.url}/global-secrets/user-token-revocations`, { token: admin })).status).toBe(200);
    expect((await whoAmI(bob)).json.name).toBe('bob');
    expect(await readRevocations()).toBeUndefined();
  });
});

describe('POST /tokens/user/revocations', () => {
  it('revokes by jti (201, then 200 when already revoked)', async () => {
    const token = await issueUserToken(global.url, admin, 'carol', []);
    const first = await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: jtiOf(token) } });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ jti: jtiOf(token), expiresAt: null, revokedAt: expect.any(String) });
    await expectRevoked(token);
    const again = await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: jtiOf(token) } });
    expect(again.status).toBe(200);
  });

  it('revokes by token, keeping its exp as the record expiry', async () => {
    const token = await issueUserToken(global.url, admin, 'dave', []);
    const result = await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { token } });
    expect(result.status).toBe(201);
    expect(result.json).toMatchObject({ jti: jtiOf(token), expiresAt: new Date(expOf(token) * 1000).toISOString() });
    await expectRevoked(token);
    expect((await readRevocations())!.split(',')).toContain(jtiOf(token));
  });

  it.each([
    [{}, /invalid body/],
    [{ jti: '' }, /jti/],
    [{ jti: 'a', token: 'b' }, /invalid body/],
    [{ token: 'not-a-jwt' }, /^token: user token is malformed: expected three dot-separated base64url parts$/],
    [{ jti: 'x'.repeat(129) }, /jti/],
  ])('refuses %j with 400', async (body, detail) => {
    const result = await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body });
    expect(result.status).toBe(400);
    expect(result.json.detail).toMatch(detail);
  });
});

describe('revocations after a restart', () => {
  it('still refuse the revoked tokens and read back the same set', async () => {
    const eve = await issueUserToken(global.url, admin, 'eve', []);
    await http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { jti: jtiOf(eve) } });
    const before = (await readRevocations())!.split(',').sort();

    expect(await global.stop()).toBe(0);
    global = await startDaemon('global-cp', env);

    await expectRevoked(eve);
    expect((await readRevocations())!.split(',').sort()).toEqual(before);
  });
});

describe('revoking by a forged copy of a real token', () => {
  const revoke = (token: string) => http('POST', `${global.url}/tokens/user/revocations`, { token: admin, body: { token } });
  /** The real token's header and signature around a payload with some claims changed. */
  const withClaims = (token: string, change: Record<string, unknown>) => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), ...change };
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  };

  it('refuses a copy with exp moved to 1970 or another jti (400); the real token, revoked, stays refused after a prune', async () => {
    const token = await issueUserToken(global.url, admin, 'frank', []);
    for (const change of [{ exp: 1 }, { jti: randomUUID() }]) {
      const refused = await revoke(withClaims(token, change));
      expect(refused.status).toBe(400);
      expect(refused.json).toMatchObject({ status: 400, detail: 'token: user token signature is invalid' });
    }
    expect((await whoAmI(token)).json.name).toBe('frank');
    expect((await readRevocations())!.split(',')).not.toContain(jtiOf(token));

    const revoked = await revoke(token);
    expect(revoked.status).toBe(201);
    expect(revoked.json.expiresAt).toBe(new Date(expOf(token) * 1000).toISOString());
    // A record that does expire, so the restart below is seen to prune.
    const shortLived = await issueUserToken(global.url, admin, 'gina', [], '1s');
    expect((await revoke(shortLived)).status).toBe(201);
    await waitFor('the short-lived token to expire', () => Date.now() > expOf(shortLived) * 1000 + 1000);

    // Expired revocations are pruned at start (and hourly after).
    expect(await global.stop()).toBe(0);
    global = await startDaemon('global-cp', env);
    expect((await readRevocations())!.split(',')).not.toContain(jtiOf(shortLived));
    await expectRevoked(token);
  });
});
