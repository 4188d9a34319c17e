import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, startDaemon, type Daemon } from '../../support/daemon.js';
import { startZone, waitForZoneCaughtUp, type Zone } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';

/** The base64 lines of a PEM body: any one of them in a log would leak key material. */
const pemLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));

describe('secrets stay out of logs and store files stay private', () => {
  let plane: Plane;
  let restarted: Daemon | undefined;
  let zone: Zone | undefined;
  const secrets: string[] = [];

  beforeAll(async () => {
    plane = await startPlane('global-cp', { MESHAUTH_LOG_LEVEL: 'debug', MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
    const { url, adminToken } = plane;
    secrets.push(adminToken, adminToken.split('.')[2]!, ...pemLines(plane.userSigningKeyPem));

    // Exercise every path that handles a secret, including the failing ones that log.
    const user = await jsonRequest('POST', `${url}/tokens/user`, { name: 'alice', groups: ['team'], validFor: '1h' }, adminToken);
    const zoneToken = await jsonRequest('POST', `${url}/tokens/zone`, { zone: 'zone-1', scope: ['cp'], validFor: '1h' }, adminToken);
    secrets.push(user.text, zoneToken.text);
    await jsonRequest('POST', `${url}/tokens/user/revocations`, { token: user.text }, adminToken);
    await rawRequest(`${url}/who-am-i`, { headers: { authorization: `Bearer ${user.text}` } }); // revoked: refused, logged
    await rawRequest(`${url}/who-am-i`, { headers: { authentication: `Bearer ${zoneToken.text}` } }); // wrong family
    const plain = 'correct-horse-battery-staple-4711';
    secrets.push(plain, Buffer.from(plain).toString('base64'));
    await jsonRequest('PUT', `${url}/global-secrets/db-password`, { type: 'GlobalSecret', name: 'db-password', data: Buffer.from(plain).toString('base64') }, adminToken);
    await jsonRequest('PUT', `${url}/meshes/default/secrets/db-password`, { type: 'Secret', mesh: 'default', name: 'db-password', data: Buffer.from(plain).toString('base64') }, adminToken);
    // A key that does not parse, carrying recognisable secret bytes: the 400 must not log them.
    const brokenPem = `-----BEGIN RSA PRIVATE KEY-----\n${Buffer.from('secret-material-0123456789-abcdefghijklmnopqrstuvwxyz').toString('base64')}\n-----END RSA PRIVATE KEY-----\n`;
    secrets.push(...pemLines(brokenPem));
    await jsonRequest('PUT', `${url}/global-secrets/user-token-signing-key-9`, { type: 'GlobalSecret', name: 'user-token-signing-key-9', data: Buffer.from(brokenPem).toString('base64') }, adminToken);
    const rotated = await rawRequest(`${url}/tokens/user/signing-keys`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    const key2 = await jsonRequest('GET', `${url}/global-secrets/user-token-signing-key-${rotated.json.serial}`, undefined, adminToken);
    secrets.push(...pemLines(Buffer.from(key2.json.data, 'base64').toString('utf8')));
    // A zone receiving private keys over sync, logging at debug: its log must not carry them either.
    if (zoneCpBuilt()) {
      zone = await startZone(plane, { name: 'zone-1', mode: 'private', syncPort: plane.daemon.ready.syncPort as number, env: { MESHAUTH_LOG_LEVEL: 'debug' } });
      secrets.push(readFileSync(zone.tokenFile, 'utf8'));
      await waitForZoneCaughtUp(plane, zone.daemon.url);
      await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${user.text}` } });
    }
  });

  afterAll(async () => {
    await restarted?.stop();
    await plane?.dispose();
    await stopAll();
  });

  it('no secret value appears in any log line, at debug level, across a restart', async () => {
    await plane.daemon.stop();
    restarted = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: plane.storePath, MESHAUTH_LOG_LEVEL: 'debug' });
    await rawRequest(`${restarted.url}/who-am-i`, { headers: { authorization: `Bearer ${secrets[0]}x` } });
    await zone?.daemon.stop();
    const log = [...plane.daemon.output, ...restarted.output, ...(zone?.daemon.output ?? [])].join('\n');
    expect(log.length).toBeGreaterThan(0);
    const leaked = secrets.filter((s) => log.includes(s));
    expect(leaked).toEqual([]);
  });

  it('the store file, its WAL and shared-memory files are mode 0600', async () => {
    const files = [plane.storePath, `${plane.storePath}-wal`, `${plane.storePath}-shm`];
    if (zone) files.push(zone.storePath);
    for (const file of files) {
      expect((statSync(file).mode & 0o777).toString(8), file).toBe('600');
    }
    expect(statSync(plane.dir.path).mode & 0o077).toBe(0);
  });
});
