import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir } from './support/daemon.js';
import { http } from './support/http.js';
import { hello, openProbe, startGlobal, startZone, syncStatus, writeZoneToken, zoneOnGlobal, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/** SPEC 6: the sync stream needs a valid zone token of scope cp whose Zone is the name the zone gives. */
describe('sync stream authentication', () => {
  const dir = tempDir();
  let global: Global;
  const tokenFor = async (zone: string, scope: string[] = ['cp'], validFor = '1h') => readFileSync(await writeZoneToken(global, dir.path, zone, scope, validFor), 'utf8');

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const refusal = async (token: string | undefined, zone: string) => {
    const probe = openProbe(global.syncPort, token);
    probe.send(hello(zone, 'SYNC_MODE_PUBLIC'));
    const closed = await probe.closed;
    probe.close();
    expect(probe.received.filter((m) => m.batch)).toEqual([]);
    return closed;
  };

  it('refuses a missing token (UNAUTHENTICATED)', async () => {
    expect(await refusal(undefined, 'zone-1')).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/missing zone token/) });
  });

  it('refuses a token that is not a valid zone token (UNAUTHENTICATED)', async () => {
    const userToken = (await http('POST', `${global.url}/tokens/user`, { body: { name: 'x', validFor: '1h' } })).text;
    expect(await refusal(userToken, 'zone-1')).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/zone token/) });
    expect(await refusal('not-a-jwt', 'zone-1')).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/malformed/) });
  });

  it('refuses a zone naming itself other than the token says (PERMISSION_DENIED)', async () => {
    expect(await refusal(await tokenFor('zone-1'), 'zone-2')).toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringMatching(/zone-1.*zone-2/) });
  });

  it('refuses a zone token without scope cp (PERMISSION_DENIED)', async () => {
    expect(await refusal(await tokenFor('zone-1', ['ingress']), 'zone-1')).toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringMatching(/scope cp/) });
  });

  it('refuses an expired token (UNAUTHENTICATED)', async () => {
    const token = await tokenFor('zone-1', ['cp'], '1s');
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the token must really expire; nothing to poll
    expect(await refusal(token, 'zone-1')).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/expired/) });
  });

  it('refuses a revoked zone token, and ends an open stream whose token gets revoked', async () => {
    const token = await tokenFor('zone-3');
    const probe = openProbe(global.syncPort, token);
    probe.send(hello('zone-3', 'SYNC_MODE_PUBLIC'));
    await waitFor('welcome', () => probe.received.some((m) => m.welcome));
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const put = await http('PUT', `${global.url}/global-secrets/zone-token-revocations`, {
      body: { type: 'GlobalSecret', name: 'zone-token-revocations', data: Buffer.from(jti).toString('base64') },
    });
    expect(put.status).toBeLessThan(300);
    probe.send({ heartbeat: { sentAtMs: Date.now() } });
    expect(await probe.closed).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/revoked/) });
    probe.close();
    expect(await refusal(token, 'zone-3')).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/revoked/) });
  });

  it('a real zone with a wrong-zone token syncs nothing and says why', async () => {
    const zone = await startZone('zone-4', join(dir.path, 'zone-4.db'), { globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-5') });
    const view = await waitFor('zone reports the refusal', async () => {
      const s = await syncStatus(zone);
      return s.lastError && s;
    });
    expect(view.lastError).toMatch(/PERMISSION_DENIED.*zone-5/);
    expect(view.appliedVersion).toBe(0);
    expect(await zoneOnGlobal(global, 'zone-4')).toBeUndefined();
    expect((await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items).toEqual([]);
  });

  it('global records a nack as the zone\'s last error', async () => {
    const probe = openProbe(global.syncPort, await tokenFor('zone-6'));
    probe.send(hello('zone-6', 'SYNC_MODE_PUBLIC'));
    const batch = await waitFor('snapshot', () => probe.received.find((m) => m.batch?.last)?.batch);
    probe.send({ nack: { version: batch.toVersion, reason: 'signing key 1 is not a usable RSA key' } });
    const z = await waitFor('error recorded', async () => {
      const s = await zoneOnGlobal(global, 'zone-6');
      return s?.lastError && s;
    });
    expect(z.lastError).toBe(`version ${batch.toVersion}: signing key 1 is not a usable RSA key`);
    probe.close();
  });
});
