import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { bash } from './support/shell.js';

/**
 * Who may do what: access rules from env (MESHAUTH_ACCESS_STATIC_*), 403 naming the user and the
 * action, and the localhost-is-admin rule refusing anything that looks proxied or cross-site.
 */
const dir = tempDir();
let global: Daemon;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  global = await startDaemon('global-cp', {
    MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'),
    MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
    MESHAUTH_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS: 'mesh-system:admin,token-makers',
    MESHAUTH_ACCESS_STATIC_ADMIN_RESOURCES_USERS: 'alice',
  });
  const admin = await readAdminToken(global.url);
  tokens.john = await issueUserToken(global.url, admin, 'john', ['team-a']);
  tokens.maker = await issueUserToken(global.url, admin, 'maker', ['token-makers']);
  tokens.alice = await issueUserToken(global.url, admin, 'alice', []);
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const issue = (token: string) => http('POST', `${global.url}/tokens/user`, { token, body: { name: 'x', groups: [], validFor: '1h' } });
const listSecrets = (token: string) => http('GET', `${global.url}/global-secrets`, { token });

describe('access rules', () => {
  it('refuses a user outside the rules with 403 on POST /tokens/user and /global-secrets, naming user and action', async () => {
    const token = await issue(tokens.john!);
    expect(token.status).toBe(403);
    expect(token.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(token.json).toMatchObject({ status: 403, title: 'Forbidden', detail: expect.stringMatching(/user "john" .* not allowed to generateUserToken/) });

    for (const result of [
      await listSecrets(tokens.john!),
      await http('GET', `${global.url}/global-secrets/admin-user-token`, { token: tokens.john! }),
      await http('PUT', `${global.url}/global-secrets/x`, { token: tokens.john!, body: { data: 'eA==' } }),
      await http('DELETE', `${global.url}/global-secrets/admin-user-token`, { token: tokens.john! }),
      await http('POST', `${global.url}/tokens/user/revocations`, { token: tokens.john!, body: { jti: 'x' } }),
      await http('POST', `${global.url}/tokens/user/signing-keys`, { token: tokens.john! }),
    ]) {
      expect(result.status).toBe(403);
      expect(result.json.detail).toMatch(/user "john" .* not allowed to adminResources/);
    }
  });

  it('lets a group named in MESHAUTH_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS issue tokens, nothing more', async () => {
    expect((await issue(tokens.maker!)).status).toBe(200);
    expect((await listSecrets(tokens.maker!)).status).toBe(403);
  });

  it('lets a user named in MESHAUTH_ACCESS_STATIC_ADMIN_RESOURCES_USERS manage secrets, nothing more', async () => {
    expect((await listSecrets(tokens.alice!)).status).toBe(200);
    expect((await issue(tokens.alice!)).status).toBe(403);
  });

  it('keeps the default group mesh-system:admin where env did not replace it', async () => {
    const admin = await readAdminToken(global.url);
    expect((await listSecrets(admin)).status).toBe(200);
    expect((await issue(admin)).status).toBe(200);
  });
});

describe('localhost is admin only for a tokenless request really made on this machine', () => {
  it('is admin from loopback with no proxy or browser headers', async () => {
    expect((await http('GET', `${global.url}/who-am-i`)).json.name).toBe('mesh-system:admin');
    expect((await listSecrets('')).status).toBe(200);
  });

  it.each([
    ['X-Forwarded-For', { 'x-forwarded-for': '203.0.113.9' }],
    ['X-Real-IP', { 'x-real-ip': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
  ])('is anonymous with %s', async (_what, headers) => {
    const whoAmI = await http('GET', `${global.url}/who-am-i`, { headers });
    expect(whoAmI.json).toEqual({ name: 'mesh-system:anonymous', groups: ['mesh-system:unauthenticated'] });
    const secret = await http('GET', `${global.url}/global-secrets/admin-user-token`, { headers });
    expect(secret.status).toBe(403);
    expect(secret.json.detail).toMatch(/user "mesh-system:anonymous"/);
    const token = await http('POST', `${global.url}/tokens/user`, { headers, body: { name: 'x', validFor: '1h' } });
    expect(token.status).toBe(403);
  });

  it('is anonymous with a foreign Host (DNS rebinding), which fetch cannot send but curl can', async () => {
    const result = await bash(`curl -s -H 'Host: evil.example' localhost:${global.httpPort}/who-am-i`);
    expect(JSON.parse(result.stdout)).toEqual({ name: 'mesh-system:anonymous', groups: ['mesh-system:unauthenticated'] });
  });
});
