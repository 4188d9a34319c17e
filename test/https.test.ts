import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { generateCertificate, SqliteStore } from '@meshauth/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, readAdminToken } from './support/http.js';
import { handshake, httpsRequest, peerPem } from './support/tls-client.js';
import { itServesTheTlsPolicy } from './support/tls-policy.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

// 5682 with no certificate configured: the plane generates a self-signed one and keeps it.
describe('HTTPS API on 5682', () => {
  const dir = tempDir();
  const storePath = join(dir.path, 'global.db');
  let global: Daemon;
  let httpsPort: number;
  let adminToken: string;

  beforeAll(async () => {
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath });
    httpsPort = global.ready.httpsPort as number;
    adminToken = await readAdminToken(global.url);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('serves the same API as HTTP', async () => {
    const [overHttp, overHttps] = await Promise.all([http('GET', `${global.url}/`), httpsRequest(httpsPort, 'GET', '/')]);
    expect(overHttps.status).toBe(200);
    expect(overHttps.json).toEqual(overHttp.json);
    expect(overHttps.json.plane).toBe('global');

    expect((await httpsRequest(httpsPort, 'GET', '/who-am-i', { token: adminToken })).json).toEqual({
      name: 'mesh-system:admin',
      groups: ['mesh-system:admin', 'mesh-system:authenticated'],
    });
    const issued = await httpsRequest(httpsPort, 'POST', '/tokens/user', {
      token: adminToken,
      body: { name: 'john', groups: ['team-a'], validFor: '1h' },
    });
    expect(issued.status).toBe(200);
    // A token minted over HTTPS works over HTTP: one API, two listeners.
    expect((await http('GET', `${global.url}/who-am-i`, { token: issued.text })).json).toEqual({
      name: 'john',
      groups: ['team-a', 'mesh-system:authenticated'],
    });

    const data = Buffer.from('over https').toString('base64');
    const put = await httpsRequest(httpsPort, 'PUT', '/global-secrets/https-test', {
      token: adminToken,
      body: { type: 'GlobalSecret', name: 'https-test', data },
    });
    expect(put.status).toBeLessThan(300);
    expect((await http('GET', `${global.url}/global-secrets/https-test`, { token: adminToken })).json.data).toBe(data);

    const refused = await httpsRequest(httpsPort, 'GET', '/who-am-i', { token: `${adminToken.slice(0, -4)}AAAA` });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('presents a generated certificate for localhost that verifies against itself, fingerprint logged', async () => {
    const seen = await handshake(httpsPort);
    expect(seen.peer.subjectaltname).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1/);
    const verified = await handshake(httpsPort, { ca: peerPem(seen.peer) });
    expect(verified.authorized).toBe(true);

    const logged = await global.waitForLog((line) => line.msg === 'HTTPS server certificate');
    expect(logged).toMatchObject({ origin: 'generated', fingerprint256: seen.peer.fingerprint256 });
    // A leaf, not a CA: its key signs no certificate a client trusting this file would accept.
    const served = new X509Certificate(seen.peer.raw);
    expect(served.ca).toBe(false);
    expect(served.keyUsage).toEqual([SERVER_AUTH]);
    expect(served.checkIssued(served)).toBe(false);
    const lifetimeDays = (Date.parse(served.validTo) - Date.parse(served.validFrom)) / 86_400_000;
    expect(Math.round(lifetimeDays)).toBe(365);
    // With its own certificate as CA, a client verifies the whole request path, not just a handshake.
    expect((await httpsRequest(httpsPort, 'GET', '/', { ca: peerPem(seen.peer) })).status).toBe(200);
  });

  it('keeps the generated certificate across restarts; another store gets another one', async () => {
    const before = (await handshake(httpsPort)).peer.fingerprint256;
    expect(await global.stop()).toBe(0);
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath });
    httpsPort = global.ready.httpsPort as number;
    expect((await handshake(httpsPort)).peer.fingerprint256).toBe(before);

    const other = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'other.db') });
    expect((await handshake(other.ready.httpsPort as number)).peer.fingerprint256).not.toBe(before);
    await other.stop();
  });

  it('regenerates at start a stored certificate with fewer than 30 days left, and says so', async () => {
    expect(await global.stop()).toBe(0);
    const expiring = generateCertificate({ type: 'server', validDays: 10 });
    const store = SqliteStore.open(storePath);
    await store.transaction(async (tx) => {
      await tx.setMeta('apiServer.tlsCertPem', expiring.certPem);
      await tx.setMeta('apiServer.tlsKeyPem', expiring.keyPem);
    });
    await store.close();

    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath });
    httpsPort = global.ready.httpsPort as number;
    const served = new X509Certificate((await handshake(httpsPort)).peer.raw);
    expect(served.fingerprint256).not.toBe(new X509Certificate(expiring.certPem).fingerprint256);
    expect(Date.parse(served.validTo) - Date.now()).toBeGreaterThan(300 * 86_400_000);
    const logged = await global.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('HTTPS server certificate regenerated'));
    expect(logged.reason).toMatch(/in under 30 days/);
  });
});

describe('TLS versions on 5682', () => {
  const dir = tempDir();
  let httpsPort: number;
  // OpenSSL 3 refuses TLS 1.0/1.1 below security level 0 on the client side too; lower it so that
  // the refusal we observe is the server's, not our own client's.
  const legacyClient = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' } as const;

  beforeAll(async () => {
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') });
    httpsPort = global.ready.httpsPort as number;
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });
  const servers: tls.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('this client can speak TLS 1.1 when a server allows it (control)', async () => {
    const { certPem, keyPem } = generateCertificate({ type: 'server' });
    const legacy = tls.createServer({ cert: certPem, key: keyPem, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    servers.push(legacy);
    await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve));
    const result = await handshake((legacy.address() as AddressInfo).port, legacyClient);
    expect(result.protocol).toBe('TLSv1.1');
  });

  it('refuses a TLS 1.1 client', async () => {
    const error = await handshake(httpsPort, legacyClient).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error?.code).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });

  it('accepts TLS 1.2 and 1.3', async () => {
    expect((await handshake(httpsPort, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
    expect((await handshake(httpsPort, { minVersion: 'TLSv1.3' })).protocol).toBe('TLSv1.3');
  });

  itServesTheTlsPolicy(() => httpsPort);
});

// The zone plane builds its listeners from the same core code; check it end to end all the same.
describe('HTTPS API on a zone control plane', () => {
  const dir = tempDir();
  const env = { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'zone.db'), MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' };
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('serves the same API over HTTPS and keeps its generated certificate across restarts', async () => {
    let zone = await startDaemon('zone-cp', env);
    let port = zone.ready.httpsPort as number;
    const overHttps = await httpsRequest(port, 'GET', '/');
    expect(overHttps.json).toEqual((await http('GET', `${zone.url}/`)).json);
    expect(overHttps.json).toMatchObject({ plane: 'zone' });
    const adminToken = await readAdminToken(zone.url);
    expect((await httpsRequest(port, 'GET', '/who-am-i', { token: adminToken })).json.name).toBe('mesh-system:admin');

    const before = (await handshake(port)).peer.fingerprint256;
    expect(await zone.stop()).toBe(0);
    zone = await startDaemon('zone-cp', env);
    port = zone.ready.httpsPort as number;
    expect((await handshake(port)).peer.fingerprint256).toBe(before);
  });
});
