import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { SqliteStore } from '@meshauth/core';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

// Global serves POST /tokens/dataplane through the core routes, with its own per-mesh keys.
describe('global-cp POST /tokens/dataplane', () => {
  const dir = tempDir();
  const storePath = join(dir.path, 'global.db');
  let global: Daemon;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    global = await startDaemon('global-cp', {
      MESHAUTH_STORE_SQLITE_PATH: storePath,
      MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'team-a',
    });
    admin = await readAdminToken(global.url);
    alice = await issueUserToken(global.url, admin, 'alice', ['team-a']);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const body = { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '1h' };
  const meshKey = async (serial: number) => {
    const secret = await http('GET', `${global.url}/meshes/default/secrets/dataplane-token-signing-key-default-${serial}`, { token: admin });
    expect(secret.status).toBe(200);
    return createPublicKey(Buffer.from(secret.json.data, 'base64').toString('utf8'));
  };

  it('issues a dataplane token to a user in an allowed group, signed by the mesh key serial 1', async () => {
    const issued = await http('POST', `${global.url}/tokens/dataplane`, { token: alice, body });
    expect(issued.status).toBe(200);
    expect(issued.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(decodeProtectedHeader(issued.text)).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    const { payload } = await jwtVerify(issued.text, await meshKey(1), { algorithms: ['RS256'] });
    expect(payload).toMatchObject({ Name: 'web-1', Mesh: 'default', Tags: body.tags, Type: 'dataplane', Zone: '' });
  });

  it('refuses a user outside the generateDpToken rule with 403', async () => {
    const bob = await issueUserToken(global.url, admin, 'bob', ['team-b']);
    const refused = await http('POST', `${global.url}/tokens/dataplane`, { token: bob, body });
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/"bob".*generateDpToken/);
  });

  it('rotates by a PEM put as mesh secret: the highest serial signs', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const put = await http('PUT', `${global.url}/meshes/default/secrets/dataplane-token-signing-key-default-2`, {
      token: admin,
      body: { type: 'Secret', mesh: 'default', name: 'dataplane-token-signing-key-default-2', data: Buffer.from(pem).toString('base64') },
    });
    expect(put.status).toBe(201);
    const issued = await http('POST', `${global.url}/tokens/dataplane`, { token: alice, body });
    expect(decodeProtectedHeader(issued.text).kid).toBe('2');
    await jwtVerify(issued.text, await meshKey(2), { algorithms: ['RS256'] });
  });

  it('keeps dataplane keys out of the change log zones sync from', async () => {
    await global.stop();
    const store = SqliteStore.open(storePath);
    try {
      expect((await store.read.listKeys('dataplane-token/default')).map((k) => k.serial)).toEqual([1, 2]);
      // The log carries every family (memory follows it); zones are sent the user-token family's
      // rows only. Every key change logged for zones is a user-token key's (here: serial 1 from first start).
      const log = await store.read.changesAfter(0, Number.MAX_SAFE_INTEGER, 100_000);
      const loggedKeys = log.filter((c) => c.family === 'user-token' && c.entity === 'key').map((c) => `${c.op} ${c.ref}`);
      expect(loggedKeys).toEqual((await store.read.listKeys('user-token')).map((k) => `put ${k.serial}`));
      expect(loggedKeys).toEqual(['put 1']);
      // The mesh keys are logged under the mesh's own family, not the one zones mirror.
      expect(log.filter((c) => c.family === 'dataplane-token/default' && c.entity === 'key').map((c) => `${c.op} ${c.ref}`)).toEqual(['put 1', 'put 2']);
    } finally {
      await store.close();
    }
  });
});
