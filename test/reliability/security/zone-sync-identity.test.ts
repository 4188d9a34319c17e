import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { waitFor } from '../../support/wait-for.js';
import { startZone, syncStatus, writeZoneToken, type Zone } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';
import { readStore } from '../support/store-snapshot.js';

/**
 * Global lets a zone sync only as the zone its token names, with scope cp, with a token that is
 * valid now. Each refused zone must end up with nothing from global, and global must not list it.
 */
describe.skipIf(!zoneCpBuilt())('a zone cannot sync under a name or token that is not its own', () => {
  let global: Plane;
  let zone: Zone | undefined;

  beforeAll(async () => {
    global = await startPlane('global-cp');
  });

  afterEach(async () => {
    await zone?.daemon.stop();
    zone = undefined;
  });

  afterAll(async () => {
    await stopAll();
    global?.dir.remove();
  });

  async function expectRefused(name: string, tokenFile: string, reason: RegExp): Promise<void> {
    zone = await startZone(global, { name, tokenFile, syncPort: global.daemon.ready.syncPort as number, storePath: join(global.dir.path, `${name}-${Date.now()}.db`) });
    await global.daemon.waitForLog((l) => l.msg === 'sync: zone refused' && reason.test(String(l.reason)));
    let status: any;
    await waitFor('the zone to report the refusal', async () => {
      status = await syncStatus(zone!.daemon.url);
      return typeof status.lastError === 'string' && status.lastError.length > 0;
    });
    expect(status.state).not.toBe('connected');
    expect(status.appliedVersion).toBe(0);
    const globalKeys = readStore(global.storePath).signingKeys.filter((k) => k.family === 'user-token').map((k) => k.publicPem);
    const zoneKeys = readStore(zone.storePath).signingKeys.map((k) => k.publicPem);
    expect(zoneKeys.filter((pem) => globalKeys.includes(pem))).toEqual([]);
    const zones = await rawRequest(`${global.url}/zones`, { headers: { authorization: `Bearer ${global.adminToken}` } });
    expect(zones.status).toBe(200);
    expect(zones.json.items.filter((z: { zone: string; connected: boolean }) => z.zone === name && z.connected)).toEqual([]);
  }

  it("refuses a zone naming itself other than its token's zone", async () => {
    await expectRefused('zone-b', await writeZoneToken(global, 'zone-a'), /zone-a|zone-b/);
  });

  it('refuses a zone token without scope cp', async () => {
    await expectRefused('zone-c', await writeZoneToken(global, 'zone-c', ['ingress']), /scope/);
  });

  it('refuses a revoked zone token', async () => {
    const tokenFile = await writeZoneToken(global, 'zone-d');
    const { readFileSync } = await import('node:fs');
    const jti = JSON.parse(Buffer.from(readFileSync(tokenFile, 'utf8').split('.')[1]!, 'base64url').toString()).jti as string;
    const revoked = await jsonRequest('PUT', `${global.url}/global-secrets/zone-token-revocations`, { type: 'GlobalSecret', data: Buffer.from(jti).toString('base64') }, global.adminToken);
    expect(revoked.status, revoked.text).toBeLessThan(300);
    await expectRefused('zone-d', tokenFile, /revoked/);
  });

  it('refuses a user token presented as a zone token', async () => {
    const tokenFile = join(global.dir.path, 'user-as-zone.token');
    writeFileSync(tokenFile, global.adminToken, { mode: 0o600 });
    await expectRefused('zone-e', tokenFile, /signature|key|zone token/i);
  });
});
