import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, startDaemon, stopAll, tempDir } from './support/daemon.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// The docs' "Admin client certificates" usage, step by step, with meshctl and real TLS.
describe('admin client certificates with meshctl (the docs sequence)', () => {
  const dir = tempDir();
  const path = (name: string) => join(dir.path, name);
  const meshctl = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [binaries.meshctl, ...args],
        { env: { PATH: process.env.PATH ?? '', HOME: dir.path, MESHCTL_CONFIG: path('meshctl.yaml') } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = async (...args: string[]) => {
    const run = await meshctl(...args);
    expect(run, `meshctl ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' });
    return run;
  };
  let address: string;

  beforeAll(async () => {
    // 1. Generate client certificates with the CLI.
    await ok('generate', 'tls-certificate', '--type=client', `--cert-file=${path('tls.crt')}`, `--key-file=${path('tls.key')}`);
    // A server certificate too, so the client can verify the control plane with --ca-cert-file.
    await ok('generate', 'tls-certificate', '--type=server', '--hostname=localhost', '--hostname=127.0.0.1', `--cert-file=${path('ca.crt')}`, `--key-file=${path('server.key')}`);
    // Another pair nobody trusts.
    await ok('generate', 'tls-certificate', '--type=client', `--cert-file=${path('stranger.crt')}`, `--key-file=${path('stranger.key')}`);
    await ok('generate', 'tls-certificate', '--type=server', `--cert-file=${path('wrong-ca.crt')}`, `--key-file=${path('wrong-ca.key')}`);

    // 2. Configure the control plane with the client certificate.
    const global = await startDaemon('global-cp', {
      MESHAUTH_STORE_SQLITE_PATH: path('global.db'),
      MESHAUTH_API_SERVER_AUTHN_TYPE: 'adminClientCerts',
      MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE: path('tls.crt'),
      MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE: path('ca.crt'),
      MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE: path('server.key'),
      // Otherwise any request from this machine would be admin and prove nothing.
      MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'false',
    });
    address = `https://127.0.0.1:${global.ready.httpsPort as number}`;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('generate tls-certificate writes a PEM client cert and an owner-only key', () => {
    const cert = new X509Certificate(readFileSync(path('tls.crt')));
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(readFileSync(path('tls.key'), 'utf8')).toMatch(/^-----BEGIN (RSA )?PRIVATE KEY-----/);
    expect(statSync(path('tls.key')).mode & 0o077).toBe(0);
    expect(new X509Certificate(readFileSync(path('ca.crt'))).subjectAltName).toMatch(/IP Address:127\.0\.0\.1/);
  });

  it('3. with --ca-cert-file, an admin operation succeeds', async () => {
    await ok('config', 'control-planes', 'add', '--name=verified', `--address=${address}`,
      `--client-cert-file=${path('tls.crt')}`, `--client-key-file=${path('tls.key')}`, `--ca-cert-file=${path('ca.crt')}`);
    const secrets = await ok('get', 'global-secrets', '-o', 'json');
    expect(JSON.parse(secrets.stdout).items.map((s: { name: string }) => s.name)).toContain('user-token-signing-key-1');
    expect(JSON.parse((await ok('who-am-i', '-o', 'json')).stdout)).toMatchObject({ name: 'mesh-system:admin' });
  });

  it('3. with --skip-verify instead, an admin operation succeeds', async () => {
    await ok('config', 'control-planes', 'add', '--name=unverified', `--address=${address}`,
      `--client-cert-file=${path('tls.crt')}`, `--client-key-file=${path('tls.key')}`, '--skip-verify');
    const secrets = await ok('get', 'global-secrets', '-o', 'json');
    expect(JSON.parse(secrets.stdout).items.length).toBeGreaterThan(0);
  });

  it('a CA that did not sign the server certificate fails with a clear TLS error', async () => {
    await ok('config', 'control-planes', 'add', '--name=wrong-ca', `--address=${address}`,
      `--client-cert-file=${path('tls.crt')}`, `--client-key-file=${path('tls.key')}`, `--ca-cert-file=${path('wrong-ca.crt')}`);
    const run = await meshctl('get', 'global-secrets');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/TLS error/);
    expect(run.stderr).toMatch(/127\.0\.0\.1/);
    expect(run.stderr).toMatch(/certificate/);
  });

  it('a client certificate the control plane does not trust, or none, is refused the admin operation', async () => {
    await ok('config', 'control-planes', 'add', '--name=stranger', `--address=${address}`,
      `--client-cert-file=${path('stranger.crt')}`, `--client-key-file=${path('stranger.key')}`, `--ca-cert-file=${path('ca.crt')}`);
    const stranger = await meshctl('get', 'global-secrets');
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr).toMatch(/mesh-system:anonymous/);

    await ok('config', 'control-planes', 'add', '--name=no-cert', `--address=${address}`, `--ca-cert-file=${path('ca.crt')}`);
    const none = await meshctl('get', 'global-secrets');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/mesh-system:anonymous/);
  });
});
