import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { startZone, waitForZoneCaughtUp } from '../support/multizone.js';
import { adminGet, startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { rawRequest } from '../support/raw-http.js';
import { readStore } from '../support/store-snapshot.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const pemLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));

/**
 * Every byte of the sync stream, captured by a proxy between zone and global. Global allows
 * private, so only the zone's ask keeps private keys home: in public mode not one line of a private
 * key may cross. A zone asking for private, captured the same way, shows the check can see keys.
 */
describe.skipIf(!zoneCpBuilt())('public-mode sync stream capture', () => {
  let global: Plane;
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    global = await startPlane('global-cp', { MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
  });

  afterAll(async () => {
    await stopAll();
    for (const p of proxies) await p.close();
    global?.dir.remove();
  });

  async function captureSync(name: string, mode: 'public' | 'private') {
    const proxy = await startTcpProxy(global.daemon.ready.syncPort as number);
    proxies.push(proxy);
    const zone = await startZone(global, { name, mode, syncPort: proxy.port });
    await waitForZoneCaughtUp(global, zone.daemon.url);
    // A rotation and a revocation while connected: deltas, not just the first snapshot.
    const rotated = await rawRequest(`${global.url}/tokens/user/signing-keys`, { method: 'POST', headers: { authorization: `Bearer ${global.adminToken}` } });
    expect(rotated.status).toBe(201);
    await waitForZoneCaughtUp(global, zone.daemon.url);
    const keys = await adminGet(`${global.url}/tokens/user/signing-keys`, global.adminToken);
    const privatePems: string[] = [];
    for (const k of keys.items) {
      const secret = await adminGet(`${global.url}/global-secrets/user-token-signing-key-${k.serial}`, global.adminToken);
      privatePems.push(Buffer.from(secret.data, 'base64').toString('utf8'));
    }
    const capture = proxy.capture().toString('latin1');
    await zone.daemon.stop();
    return { zone, capture, privatePems, publicPems: keys.items.map((k: { publicKeyPem: string }) => k.publicKeyPem) as string[] };
  }

  it('in public mode carries the public keys and not one byte of a private key', async () => {
    const { zone, capture, privatePems, publicPems } = await captureSync('zone-public', 'public');
    // The capture saw the keys go by (else this test could not fail).
    for (const pem of publicPems) expect(capture).toContain(pemLines(pem)[0]);
    expect(capture).not.toContain('PRIVATE KEY');
    const leaked = privatePems.flatMap(pemLines).filter((line) => capture.includes(line));
    expect(leaked).toEqual([]);
    expect(readStore(zone.storePath).signingKeys.filter((k) => k.hasPrivate && k.origin === 'synced')).toEqual([]);
  });

  it('in private mode the same check finds the private keys (the check can fail)', async () => {
    const { capture, privatePems } = await captureSync('zone-private', 'private');
    expect(privatePems.flatMap(pemLines).some((line) => capture.includes(line))).toBe(true);
  });
});
