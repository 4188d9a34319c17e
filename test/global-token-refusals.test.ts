import { createHmac, createPrivateKey, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { encodeSigningInput, signRs256 } from '@meshauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

/**
 * Every class of bad token, sent to a running global-cp: 401 problem+json naming the reason,
 * never echoing the token. Validly signed bad tokens are made with global's own key 1, read
 * from localhost as the docs' GlobalSecret.
 */
const dir = tempDir();
let global: Daemon;
let sign: (payload: object, header?: Record<string, unknown>) => Promise<string>;
let publicPem: string;

beforeAll(async () => {
  global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
  const secret = await http('GET', `${global.url}/global-secrets/user-token-signing-key-1`);
  const privateKey = createPrivateKey(Buffer.from(secret.json.data, 'base64').toString());
  sign = (payload, header = {}) => signRs256({ alg: 'RS256', kid: '1', typ: 'JWT', ...header }, payload, privateKey);
  publicPem = (await http('GET', `${global.url}/tokens/user/signing-keys`)).json.items[0].publicKeyPem;
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  Name: 'mallory',
  Groups: ['mesh-system:admin'],
  exp: now() + 3_600,
  nbf: now() - 300,
  iat: now(),
  jti: randomUUID(),
  ...extra,
});
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function expectRefused(token: string, detail: RegExp, header: 'authorization' | 'authentication' = 'authorization'): Promise<void> {
  const result = await http('GET', `${global.url}/global-secrets`, { headers: { [header]: `Bearer ${token}` } });
  expect(result.status).toBe(401);
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(result.json).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.stringMatching(detail) });
  if (token.length > 10) expect(result.text).not.toContain(token.split('.')[1]!.slice(0, 40));
}

describe('a running global-cp refuses with 401 and the reason', () => {
  it('accepts a token it signed itself (the baseline the others deviate from)', async () => {
    const result = await http('GET', `${global.url}/who-am-i`, { token: await sign(claims()) });
    expect(result.json.name).toBe('mallory');
  });

  it('malformed', async () => {
    await expectRefused('not-a-jwt', /malformed/);
    await expectRefused(`${b64({ alg: 'RS256', kid: '1' })}.%%%.sig`, /malformed/);
  });

  it('an Authorization header that is not Bearer', async () => {
    const result = await http('GET', `${global.url}/who-am-i`, { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });
    expect(result.status).toBe(401);
    expect(result.json.detail).toMatch(/must be "Bearer <token>"/);
  });

  it('alg none', async () => {
    await expectRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, /must be signed with RS256, got alg "none"/);
  });

  it('HS256 signed with the public key as HMAC secret', async () => {
    const input = encodeSigningInput({ alg: 'HS256', kid: '1', typ: 'JWT' }, claims());
    const token = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
    await expectRefused(token, /must be signed with RS256, got alg "HS256"/);
  });

  it('missing kid', async () => {
    await expectRefused(await sign(claims(), { kid: undefined }), /must name its signing key serial in the kid header/);
  });

  it('unknown kid', async () => {
    await expectRefused(await sign(claims(), { kid: '99' }), /an unknown key \(kid 99\): no signing key with that serial was ever held here/);
  });

  it('a kid that is not a serial', async () => {
    await expectRefused(await sign(claims(), { kid: 'user-token-signing-key-1' }), /must name its signing key serial in the kid header/);
  });

  it('bad signature', async () => {
    const [h, , s] = (await sign(claims())).split('.');
    await expectRefused(`${h}.${b64(claims({ Name: 'someone-else' }))}.${s}`, /signature is invalid/);
  });

  it('expired', async () => {
    await expectRefused(await sign(claims({ iat: now() - 7_200, nbf: now() - 7_500, exp: now() - 3_600 })), /user token expired at/);
  });

  it('not yet valid', async () => {
    await expectRefused(await sign(claims({ nbf: now() + 3_600 })), /not valid before/);
  });

  it('revoked', async () => {
    const admin = await readAdminToken(global.url);
    const token = await issueUserToken(global.url, admin, 'john', ['team-a']);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { body: { jti } })).status).toBe(201);
    await expectRefused(token, /^user token is revoked$/, 'authentication');
  });

  it('over 8 KiB', async () => {
    const token = await sign(claims({ Groups: ['g'.repeat(8_192)] }));
    await expectRefused(token, /larger than 8192 bytes/);
  });

  it('claims of the wrong type', async () => {
    await expectRefused(await sign(claims({ Name: 42 })), /claim Name must be a non-empty string/);
    await expectRefused(await sign(claims({ Groups: 'mesh-system:admin' })), /claim Groups must be a list of strings/);
    await expectRefused(await sign(claims({ exp: 'tomorrow' })), /claim exp must be a number/);
  });

  it('refuses rather than falling back to localhost admin', async () => {
    const result = await http('GET', `${global.url}/who-am-i`, { token: 'not-a-jwt' });
    expect(result.status).toBe(401);
  });
});
