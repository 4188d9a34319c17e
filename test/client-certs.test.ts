import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCertificate, generateCertificateAuthority } from '@meshauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';
import { httpsRequest, startExpectingFailure, type TlsClientOptions } from './support/tls-client.js';

const ADMIN = { name: 'mesh-system:admin', groups: ['mesh-system:admin'] };
const ANONYMOUS = { name: 'mesh-system:anonymous', groups: ['mesh-system:unauthenticated'] };

// Certificates for every case; generated once (RSA keygen is the slow part).
const ca = generateCertificateAuthority({ commonName: 'admin client CA' });
// Same subject name as the trusted CA, different key: only the signature tells them apart.
const otherCa = generateCertificateAuthority({ commonName: 'admin client CA' });
const client = (signer?: typeof ca, now?: Date) => {
  const { certPem, keyPem } = generateCertificate({ type: 'client', ...(signer ? { ca: signer } : {}), ...(now ? { now, validDays: 1 } : {}) });
  return { cert: certPem, key: keyPem };
};
const trusted = client(ca);
const fromOtherCa = client(otherCa);
const selfSigned = client();
const expired = client(ca, new Date(Date.now() - 30 * 24 * 3600_000));

// In this mode a request from 127.0.0.1 without credentials would be admin; the tests turn that
// off so that "no certificate" means what it means for a remote caller.
const clientCertsEnv = (caFile: string, storePath: string) => ({
  MESHAUTH_STORE_SQLITE_PATH: storePath,
  MESHAUTH_API_SERVER_AUTHN_TYPE: 'adminClientCerts',
  MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE: caFile,
  MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false',
});

describe('adminClientCerts with a CA file', () => {
  const dir = tempDir();
  let global: Daemon;
  let port: number;
  const as = (who: TlsClientOptions) => ({
    whoAmI: () => httpsRequest(port, 'GET', '/who-am-i', who),
    listSecrets: () => httpsRequest(port, 'GET', '/global-secrets', who),
  });

  beforeAll(async () => {
    const caFile = join(dir.path, 'ca.crt');
    writeFileSync(caFile, ca.certPem);
    global = await startDaemon('global-cp', clientCertsEnv(caFile, join(dir.path, 'global.db')));
    port = global.ready.httpsPort as number;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('warns at start that the mode is deprecated', async () => {
    const warning = await global.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('adminClientCerts is deprecated'));
    expect(warning.level).toBe(40);
  });

  it('a client certificate signed by the configured CA is mesh-system:admin', async () => {
    expect((await as(trusted).whoAmI()).json).toEqual(ADMIN);
    const list = await as(trusted).listSecrets();
    expect(list.status).toBe(200);
    expect(list.json.items.map((s: { name: string }) => s.name)).toContain('user-token-signing-key-1');
  });

  it.each([
    ['a certificate from another CA with the same name', fromOtherCa],
    ['a self-signed certificate', selfSigned],
    ['an expired certificate from the configured CA', expired],
    ['no certificate', {}],
  ])('%s is anonymous: 403 on admin resources', async (_name, who: TlsClientOptions) => {
    expect((await as(who).whoAmI()).json).toEqual(ANONYMOUS);
    const refused = await as(who).listSecrets();
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/mesh-system:anonymous/);
  });

  // As in Kuma, tokens are ignored in this mode rather than refused with 401: a request carrying
  // one is judged as if it carried none. Even a well-formed token of an admin-group user.
  it('does not accept user tokens, valid or not, on either listener', async () => {
    const issued = await httpsRequest(port, 'POST', '/tokens/user', {
      ...trusted,
      body: { name: 'alice', groups: ['mesh-system:admin'], validFor: '1h' },
    });
    expect(issued.status).toBe(200);
    const aliceToken = issued.text;
    for (const token of [aliceToken, 'not-a-jwt']) {
      expect((await httpsRequest(port, 'GET', '/who-am-i', { token })).json).toEqual(ANONYMOUS);
      expect((await httpsRequest(port, 'GET', '/global-secrets', { token })).status).toBe(403);
      expect((await http('GET', `${global.url}/who-am-i`, { token })).json).toEqual(ANONYMOUS);
      expect((await http('GET', `${global.url}/global-secrets`, { token })).status).toBe(403);
    }
    // The certificate still decides when a token rides along.
    expect((await httpsRequest(port, 'GET', '/who-am-i', { ...trusted, token: aliceToken })).json).toEqual(ADMIN);
  });
});

describe('adminClientCerts with a directory of PEMs', () => {
  const dir = tempDir();
  let port: number;

  beforeAll(async () => {
    const caDir = join(dir.path, 'client-cas');
    mkdirSync(caDir);
    // Two trust anchors: another CA, and (as the docs do) a self-signed client cert trusted as itself.
    writeFileSync(join(caDir, 'other-ca.pem'), otherCa.certPem);
    writeFileSync(join(caDir, 'tls.crt'), selfSigned.cert);
    writeFileSync(join(caDir, 'tls.key'), selfSigned.key); // not a certificate: skipped by extension
    const global = await startDaemon('global-cp', clientCertsEnv(caDir, join(dir.path, 'global.db')));
    port = global.ready.httpsPort as number;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('trusts every certificate in the directory, and only those', async () => {
    expect((await httpsRequest(port, 'GET', '/who-am-i', fromOtherCa)).json).toEqual(ADMIN);
    expect((await httpsRequest(port, 'GET', '/who-am-i', selfSigned)).json).toEqual(ADMIN);
    expect((await httpsRequest(port, 'GET', '/global-secrets', selfSigned)).status).toBe(200);
    // The CA of the first suite is not in this directory.
    expect((await httpsRequest(port, 'GET', '/who-am-i', trusted)).json).toEqual(ANONYMOUS);
    expect((await httpsRequest(port, 'GET', '/global-secrets', trusted)).status).toBe(403);
  });
});

describe('adminClientCerts on a zone control plane', () => {
  const dir = tempDir();
  let zone: Daemon;
  let port: number;

  beforeAll(async () => {
    const caFile = join(dir.path, 'ca.crt');
    writeFileSync(caFile, ca.certPem);
    zone = await startDaemon('zone-cp', { ...clientCertsEnv(caFile, join(dir.path, 'zone.db')), MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' });
    port = zone.ready.httpsPort as number;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('warns that the mode is deprecated; a cert from the CA is admin, others are anonymous', async () => {
    await zone.waitForLog((l) => typeof l.msg === 'string' && l.msg.includes('adminClientCerts is deprecated'));
    expect((await httpsRequest(port, 'GET', '/who-am-i', trusted)).json).toEqual(ADMIN);
    expect((await httpsRequest(port, 'GET', '/global-secrets', trusted)).status).toBe(200);
    expect((await httpsRequest(port, 'GET', '/who-am-i', fromOtherCa)).json).toEqual(ANONYMOUS);
    expect((await httpsRequest(port, 'GET', '/global-secrets', {})).status).toBe(403);
  });
});

describe('adminClientCerts start errors', () => {
  const dir = tempDir();
  const store = join(dir.path, 'global.db');
  afterAll(() => dir.remove());

  const SETTING = 'MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE';
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['no CA configured', () => clientCertsEnv('', store), new RegExp(`adminClientCerts needs ${SETTING}`)],
    ['a CA path that does not exist', () => clientCertsEnv(join(dir.path, 'nope.crt'), store), new RegExp(`${SETTING}: cannot read .*nope\\.crt: ENOENT`)],
    ['a CA file without a certificate', () => clientCertsEnv(write('junk.crt', 'junk\n'), store), new RegExp(`${SETTING}: .*junk\\.crt holds no PEM certificate`)],
    ['a CA directory without PEM files', () => clientCertsEnv(emptyDir(), store), new RegExp(`${SETTING}: directory .* holds no \\.pem or \\.crt file`)],
    [
      'HTTPS disabled',
      () => ({ ...clientCertsEnv(write('ca.crt', ca.certPem), store), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' }),
      /adminClientCerts needs HTTPS/,
    ],
  ];
  function write(name: string, content: string): string {
    writeFileSync(join(dir.path, name), content);
    return join(dir.path, name);
  }
  function emptyDir(): string {
    mkdirSync(join(dir.path, 'empty'), { recursive: true });
    return join(dir.path, 'empty');
  }

  it.each(cases)('%s: exit 1 with one line naming the problem', async (_name, env, message) => {
    const { code, stderr } = await startExpectingFailure('global-cp', env());
    expect(code).toBe(1);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^global-cp: invalid configuration: /);
    expect(stderr[0]).toMatch(message);
  });
});
