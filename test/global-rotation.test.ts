import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

/** Signing-key rotation as the docs describe it: new key, new tokens, old key removed. */
const dir = tempDir();
let global: Daemon;
let admin: string;

beforeAll(async () => {
  global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
  admin = await readAdminToken(global.url);
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
const whoAmI = (token: string) => http('GET', `${global.url}/who-am-i`, { token });
const serials = async () => (await http('GET', `${global.url}/tokens/user/signing-keys`)).json.items.map((k: { serial: number }) => k.serial);
const rsaPem = (bits: number, type: 'pkcs1' | 'pkcs8' = 'pkcs1') =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type, format: 'pem' }) as string;
const putKey = (name: string, pem: string) =>
  http('PUT', `${global.url}/global-secrets/${name}`, { body: { type: 'GlobalSecret', name, data: Buffer.from(pem).toString('base64') } });

describe('signing-key rotation', () => {
  let kid1Token: string;
  let kid2Token: string;

  it('starts with key 1 signing', async () => {
    expect(await serials()).toEqual([1]);
    kid1Token = await issueUserToken(global.url, admin, 'john', ['team-a']);
    expect(kidOf(kid1Token)).toBe('1');
  });

  it('signs new tokens with a key 2 PUT as user-token-signing-key-2; kid-1 tokens still work', async () => {
    const pem = rsaPem(2048);
    const put = await putKey('user-token-signing-key-2', pem);
    expect(put.status).toBe(201);
    expect(await serials()).toEqual([1, 2]);
    const stored = await http('GET', `${global.url}/global-secrets/user-token-signing-key-2`);
    expect(Buffer.from(stored.json.data, 'base64').toString().trim()).toBe(pem.trim());

    kid2Token = await issueUserToken(global.url, admin, 'john', ['team-a']);
    expect(kidOf(kid2Token)).toBe('2');
    expect((await whoAmI(kid1Token)).json.name).toBe('john');
    expect((await whoAmI(kid2Token)).json.name).toBe('john');
    const jwks = await http('GET', `${global.url}/.well-known/jwks.json`);
    expect(jwks.json.keys.map((k: { kid: string }) => k.kid)).toEqual(['1', '2']);
  });

  it('rotates with POST /tokens/user/signing-keys: serial = highest + 1, RSA 2048, signs from now on', async () => {
    const result = await http('POST', `${global.url}/tokens/user/signing-keys`, { token: admin });
    expect(result.status).toBe(201);
    expect(result.json).toEqual({ serial: 3 });
    const keys = (await http('GET', `${global.url}/tokens/user/signing-keys`)).json.items;
    expect(keys.map((k: { serial: number; signs: boolean }) => [k.serial, k.signs])).toEqual([[1, false], [2, false], [3, true]]);
    expect(JSON.stringify(keys)).not.toMatch(/PRIVATE KEY/);
    const jwk = (await http('GET', `${global.url}/.well-known/jwks.json`)).json.keys.find((k: { kid: string }) => k.kid === '3');
    expect(Buffer.from(jwk.n, 'base64url').length * 8).toBe(2048);
    expect(kidOf(await issueUserToken(global.url, admin, 'john', []))).toBe('3');
  });

  it('accepts a PKCS#8 private key and stores it as PKCS#1', async () => {
    expect((await putKey('user-token-signing-key-4', rsaPem(2048, 'pkcs8'))).status).toBe(201);
    const stored = await http('GET', `${global.url}/global-secrets/user-token-signing-key-4`);
    expect(Buffer.from(stored.json.data, 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(kidOf(await issueUserToken(global.url, admin, 'john', []))).toBe('4');
  });

  it('after key 1 is deleted, refuses kid-1 tokens saying the key was rotated and the token must be regenerated', async () => {
    expect((await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-1`)).status).toBe(200);
    expect(await serials()).toEqual([2, 3, 4]);

    const refused = await whoAmI(kid1Token);
    expect(refused.status).toBe(401);
    expect(refused.json.detail).toMatch(/signing key 1, which has been rotated out; regenerate the token/);
    expect(refused.text).not.toContain(kid1Token);
    // The bootstrap admin token was signed by key 1 too: it goes with it.
    expect((await whoAmI(admin)).status).toBe(401);

    expect((await whoAmI(kid2Token)).json).toEqual({ name: 'john', groups: ['team-a', 'mesh-system:authenticated'] });
    const jwks = await http('GET', `${global.url}/.well-known/jwks.json`);
    expect(jwks.json.keys.map((k: { kid: string }) => k.kid)).toEqual(['2', '3', '4']);
    expect((await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-1`)).status).toBe(404);
  });

  it("re-issued the stored admin token with each new key: read the docs' way, it works after key 1 is gone", async () => {
    const stored = await readAdminToken(global.url);
    expect(kidOf(stored)).toBe('4');
    expect((await whoAmI(stored)).json).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin', 'mesh-system:authenticated'] });
  });

  it('refuses with 409 to delete the key that signs, naming the consequence; the key stays', async () => {
    const refused = await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-4`);
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toMatch(/user-token-signing-key-4 signs user tokens now: deleting it makes every token it signed fail .*\?force=true/);
    expect(await serials()).toEqual([2, 3, 4]);
  });
});

describe('deleting the last user-token signing key', () => {
  it('is refused with 409 unless ?force=true', async () => {
    const fresh = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'last-key.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
    const refused = await http('DELETE', `${fresh.url}/global-secrets/user-token-signing-key-1`);
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toMatch(/is the last user-token signing key: deleting it makes every user token fail/);
    expect((await http('DELETE', `${fresh.url}/global-secrets/user-token-signing-key-1?force=yes`)).status).toBe(400);
    expect((await http('DELETE', `${fresh.url}/global-secrets/user-token-signing-key-1?force=true`)).status).toBe(200);
    expect((await http('GET', `${fresh.url}/tokens/user/signing-keys`)).json.items).toEqual([]);
    await fresh.stop();
  });
});

describe('bad signing keys are refused with 400 and change nothing', () => {
  const keyWeak = () => rsaPem(1024);
  let spare: string | undefined;
  const spareKey = () => (spare ??= rsaPem(2048));
  const ecPem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  it.each([
    ['user-token-signing-key-9', () => 'not a pem', /data: must be a PEM-encoded RSA private key/],
    ['user-token-signing-key-9', () => '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n', /data: must be a PEM-encoded RSA/],
    ['user-token-signing-key-9', keyWeak, /at least 2048 bits, got 1024/],
    ['user-token-signing-key-9', ecPem, /must be an RSA key, got ec/],
    ['user-token-signing-key-abc', spareKey, /positive integer serial, got "abc"/],
    ['user-token-signing-key-1.5', spareKey, /positive integer serial, got "1.5"/],
    ['user-token-signing-key-0', spareKey, /positive integer serial, got "0"/],
    ['user-token-signing-key-02', spareKey, /positive integer serial, got "02"/],
    ['user-token-signing-key-', spareKey, /name must match pattern/],
  ])('PUT %s', async (name, pem, detail) => {
    const keysBefore = await http('GET', `${global.url}/tokens/user/signing-keys`);
    const jwksBefore = await http('GET', `${global.url}/.well-known/jwks.json`);
    const result = await putKey(name, pem());
    expect(result.status).toBe(400);
    expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(result.json.detail).toMatch(detail);
    expect((await http('GET', `${global.url}/tokens/user/signing-keys`)).json).toEqual(keysBefore.json);
    expect((await http('GET', `${global.url}/.well-known/jwks.json`)).json).toEqual(jwksBefore.json);
    expect((await http('GET', `${global.url}/global-secrets`)).json.items.map((s: { name: string }) => s.name)).not.toContain(name);
  });

  it('keeps signing with the same key after the refusals', async () => {
    const token = await http('POST', `${global.url}/tokens/user`, { body: { name: 'john', validFor: '1h' } });
    expect(kidOf(token.text)).toBe('4');
  });
});
