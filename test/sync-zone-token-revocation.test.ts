import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, zoneOnGlobal, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const userKeys = async (plane: { url: string }) =>
  (await http('GET', `${plane.url}/tokens/user/signing-keys`)).json.items as { serial: number; hasPrivateKey: boolean }[];

/**
 * SPEC 6: global refuses a revoked zone token — also on a stream already open. A real zone-cp that
 * heartbeats only every 5 minutes (so its stream carries nothing but acks meanwhile) loses its
 * stream as soon as its token is revoked, and in private mode never receives a key made after.
 */
describe('a real zone whose zone token is revoked while it syncs', () => {
  const dir = tempDir();
  let global: Global;
  let zone: Daemon;
  let tokenFile: string;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'), { MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
    tokenFile = await writeZoneToken(global, dir.path, 'zone-1');
    zone = await startZone('zone-1', join(dir.path, 'zone-1.db'), {
      mode: 'private',
      globalAddress: global.syncAddress,
      tokenFile,
      env: { MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '5m' },
    });
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('loses its stream (UNAUTHENTICATED, revoked) and never gets the next private key', async () => {
    await waitFor('the zone to hold global key 1 with its private part', async () => (await userKeys(zone)).some((k) => k.serial === 1 && k.hasPrivateKey));
    expect(await zoneOnGlobal(global, 'zone-1')).toMatchObject({ connected: true });

    const jti = JSON.parse(Buffer.from(readFileSync(tokenFile, 'utf8').split('.')[1]!, 'base64url').toString()).jti as string;
    const revoked = await http('PUT', `${global.url}/global-secrets/zone-token-revocations`, {
      body: { type: 'GlobalSecret', name: 'zone-token-revocations', data: Buffer.from(jti).toString('base64') },
    });
    expect(revoked.status, revoked.text).toBeLessThan(300);
    const rotated = await http('POST', `${global.url}/tokens/user/signing-keys`);
    expect(rotated.status, rotated.text).toBe(201);
    const newSerial = rotated.json.serial as number;

    // Bounded so the old behaviour (the stream stays up until the next heartbeat, minutes away) fails here.
    const status = await waitFor('the zone to report its stream ended', async () => {
      const s = await syncStatus(zone);
      return /UNAUTHENTICATED: zone token is revoked/.test(String(s.lastError)) ? s : undefined;
    }, 20_000);
    expect(status.state).not.toBe('connected');
    expect(await zoneOnGlobal(global, 'zone-1')).toMatchObject({ connected: false, lastError: 'zone token is revoked' });
    expect((await userKeys(global)).map((k) => k.serial)).toContain(newSerial);
    expect((await userKeys(zone)).map((k) => k.serial)).toEqual([1]);
  });
});
