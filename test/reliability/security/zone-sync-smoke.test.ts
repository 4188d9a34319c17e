import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { startZone, waitForZoneCaughtUp, type Zone } from '../support/multizone.js';
import { rawRequest } from '../support/raw-http.js';

describe.skipIf(!zoneCpBuilt())('smoke', () => {
  let global: Plane;
  let zone: Zone;
  beforeAll(async () => {
    global = await startPlane('global-cp');
  });
  afterAll(async () => {
    await stopAll();
    global?.dir.remove();
  });
  it('syncs', async () => {
    zone = await startZone(global, { name: 'zone-1', syncPort: global.daemon.ready.syncPort as number });
    const s = await waitForZoneCaughtUp(global, zone.daemon.url);
    console.log(s);
    const who = await rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${global.adminToken}` } });
    console.log(who.text);
  });
});
