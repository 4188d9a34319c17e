import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';
import { bash } from './support/shell.js';

/**
 * The docs' single-plane flow, verbatim, against the built global-cp: read the admin token with
 * curl | jq | base64, issue john's token with the docs' curl, check it like jwt.io would.
 */
const dir = tempDir();
const storePath = join(dir.path, 'global.db');
const env = { MESHAUTH_STORE_SQLITE_PATH: storePath };
let global: Daemon;

beforeAll(async () => {
  global = await startDaemon('global-cp', env);
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const docsAdminTokenCommand = (port: number) => `curl -s localhost:${port}/global-secrets/admin-user-token | jq -r .data | base64 -d`;
const docsUserTokenCommand = (port: number, adminToken: string) =>
  `curl localhost:${port}/tokens/user \\
  -H'authentication: Bearer ${adminToken}' \\
  -H'content-type: application/json' \\
  --data '{"name": "john","groups": ["team-a"], "validFor": "24h"}'`;

function decodePart(token: string, index: number): string {
  return Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8');
}

describe("the docs' flow against global-cp", () => {
  let adminToken: string;
  let johnToken: string;

  it('keeps its state in one SQLite file, WAL, mode 0600', () => {
    expect(statSync(storePath).mode & 0o777).toBe(0o600);
    expect(statSync(`${storePath}-wal`).mode & 0o777).toBe(0o600);
  });

  it("reads the admin user token with the docs' curl | jq | base64 -d", async () => {
    const result = await bash(docsAdminTokenCommand(global.httpPort));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    adminToken = result.stdout;
    expect(adminToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const payload = JSON.parse(decodePart(adminToken, 1));
    expect(payload).toMatchObject({ Name: 'mesh-system:admin', Groups: ['mesh-system:admin'] });
    const whoAmI = await http('GET', `${global.url}/who-am-i`, { token: adminToken, headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(whoAmI.json).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin', 'mesh-system:authenticated'] });
  });

  it("issues john's token with the docs' curl: the docs' header and exactly the docs' claims", async () => {
    const result = await bash(docsUserTokenCommand(global.httpPort, adminToken));
    expect(result.code).toBe(0);
    johnToken = result.stdout;
    expect(decodePart(johnToken, 0)).toBe('{"alg":"RS256","kid":"1","typ":"JWT"}');
    const payload = JSON.parse(decodePart(johnToken, 1));
    expect(Object.keys(payload)).toEqual(['Name', 'Groups', 'exp', 'nbf', 'iat', 'jti']);
    expect(payload).toMatchObject({ Name: 'john', Groups: ['team-a'] });
    expect(payload.exp - payload.iat).toBe(86_400);
    expect(payload.iat - payload.nbf).toBe(300);
    expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(600);
    expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers the token as text/plain', async () => {
    const result = await http('POST', `${global.url}/tokens/user`, { token: adminToken, body: { name: 'john', groups: ['team-a'], validFor: '1h30m' } });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toMatch(/^text\/plain/);
    const payload = JSON.parse(decodePart(result.text, 1));
    expect(payload.exp - payload.iat).toBe(5_400);
  });

  it('issues a token an independent JWT library verifies with the key from /.well-known/jwks.json', async () => {
    const jwks = await http('GET', `${global.url}/.well-known/jwks.json`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(jwks.status).toBe(200);
    expect(jwks.json.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: '1', alg: 'RS256', use: 'sig' })]);
    expect(JSON.stringify(jwks.json)).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
    expect(Buffer.from(jwks.json.keys[0].n, 'base64url').length * 8).toBe(2048);

    const { payload, protectedHeader } = await jwtVerify(johnToken, createRemoteJWKSet(new URL(`${global.url}/.well-known/jwks.json`)), {
      algorithms: ['RS256'],
      typ: 'JWT',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(payload).toMatchObject({ Name: 'john', Groups: ['team-a'] });
  });

  it('authenticates john: who-am-i answers john, team-a and mesh-system:authenticated', async () => {
    const viaEitherHeader: Record<string, string>[] = [{ authorization: `Bearer ${johnToken}` }, { authentication: `Bearer ${johnToken}` }];
    for (const headers of viaEitherHeader) {
      const result = await http('GET', `${global.url}/who-am-i`, { headers });
      expect(result.status).toBe(200);
      expect(result.json).toEqual({ name: 'john', groups: ['team-a', 'mesh-system:authenticated'] });
    }
  });

  it('answers an anonymous caller as mesh-system:anonymous in mesh-system:unauthenticated', async () => {
    const result = await http('GET', `${global.url}/who-am-i`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(result.json).toEqual({ name: 'mesh-system:anonymous', groups: ['mesh-system:unauthenticated'] });
  });

  it('describes itself at GET /', async () => {
    const result = await http('GET', `${global.url}/`);
    expect(result.json).toMatchObject({ product: 'meshauth', plane: 'global', version: expect.any(String) });
  });

  it('reuses the signing key and the admin token after a restart', async () => {
    const keyBefore = (await http('GET', `${global.url}/global-secrets/user-token-signing-key-1`)).json.data;
    expect(Buffer.from(keyBefore, 'base64').toString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(await global.stop()).toBe(0);

    global = await startDaemon('global-cp', env);
    const keyAfter = (await http('GET', `${global.url}/global-secrets/user-token-signing-key-1`)).json.data;
    expect(keyAfter).toBe(keyBefore);
    expect((await bash(docsAdminTokenCommand(global.httpPort))).stdout).toBe(adminToken);
    expect(global.output.join('\n')).not.toMatch(/created (user token signing key|admin user token)/);
    const keys = await http('GET', `${global.url}/tokens/user/signing-keys`);
    expect(keys.json.items.map((k: { serial: number }) => k.serial)).toEqual([1]);

    const whoAmI = await http('GET', `${global.url}/who-am-i`, { token: johnToken });
    expect(whoAmI.json.name).toBe('john');
  });
});
