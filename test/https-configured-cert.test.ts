import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateCertificate, generateCertificateAuthority } from '@meshauth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir } from './support/daemon.js';
import { handshake, httpsRequest, startExpectingFailure } from './support/tls-client.js';

// MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE / _TLS_KEY_FILE: the operator's certificate instead of a generated one.
describe('HTTPS with a configured certificate', () => {
  const dir = tempDir();
  const file = (name: string, content: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, content);
    return path;
  };
  const ca = generateCertificateAuthority({ commonName: 'operator CA' });
  const server = generateCertificate({ type: 'server', hostnames: ['localhost', '127.0.0.1'], ca });
  const other = generateCertificate({ type: 'server' });
  let certFile: string;
  let keyFile: string;
  // One store for every start below, so only the first one pays for signing-key generation.
  const store = { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') };

  beforeAll(() => {
    certFile = file('tls.crt', server.certPem);
    keyFile = file('tls.key', server.keyPem);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('serves the configured certificate, which verifies against the operator CA', async () => {
    const global = await startDaemon('global-cp', {
      ...store,
      MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE: certFile,
      MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE: keyFile,
    });
    const port = global.ready.httpsPort as number;
    const seen = await handshake(port, { ca: ca.certPem });
    expect(seen.authorized).toBe(true);
    expect(seen.peer.fingerprint256).toBe(new X509Certificate(server.certPem).fingerprint256);
    expect(seen.peer.issuer.CN).toBe('operator CA');
    expect(await global.waitForLog((l) => l.msg === 'HTTPS server certificate')).toMatchObject({ origin: 'configured' });
    expect((await httpsRequest(port, 'GET', '/', { ca: ca.certPem })).json.plane).toBe('global');
    // A client that trusts something else refuses this server: the CA check is real.
    await expect(httpsRequest(port, 'GET', '/', { ca: other.certPem })).rejects.toThrow(/certificate/i);
    expect(await global.stop()).toBe(0);
  });

  const CERT = 'MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE';
  const KEY = 'MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE';
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['only the cert file set', () => ({ [CERT]: certFile }), /MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE is set but MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE is not/],
    ['only the key file set', () => ({ [KEY]: keyFile }), /MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE is set but MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE is not/],
    ['a cert file that does not exist', () => ({ [CERT]: join(dir.path, 'missing.crt'), [KEY]: keyFile }), /MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE: cannot read .*missing\.crt: ENOENT/],
    ['a key file that cannot be read', () => ({ [CERT]: certFile, [KEY]: dir.path }), /MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE: cannot read .*: EISDIR/],
    ['a cert file that is not PEM', () => ({ [CERT]: file('junk.crt', 'not a certificate\n'), [KEY]: keyFile }), /MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE \(.*junk\.crt\) does not hold a PEM certificate/],
    ['a key file that is not PEM', () => ({ [CERT]: certFile, [KEY]: file('junk.key', 'not a key\n') }), /MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE \(.*junk\.key\) does not hold an unencrypted PEM private key/],
    ['a key that belongs to another certificate', () => ({ [CERT]: certFile, [KEY]: file('other.key', other.keyPem) }), /the key in MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE \(.*other\.key\) does not belong to the certificate in MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE/],
  ];
  it.each(cases)('refuses to start with %s: exit 1, one line naming the problem', async (_name, env, message) => {
    const { code, stderr } = await startExpectingFailure('global-cp', { ...store, ...env() });
    expect(code).toBe(1);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^global-cp: invalid configuration: /);
    expect(stderr[0]).toMatch(message);
  });
});
