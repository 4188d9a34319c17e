import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { waitFor } from '../../support/wait-for.js';
import { linesSince, waitForLogSince } from '../support/log-watch.js';
import { startZone, syncStatus, waitForZoneCaughtUp, type Zone } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The link between a zone and global drops, then stalls (open but silent), then comes back. The
 * zone keeps authenticating with what it has, notices the silent stream by its heartbeats, and
 * catches up by a delta, not a full snapshot; revocations made meanwhile apply once it has.
 */
describe.skipIf(!zoneCpBuilt())('zone-global link: drop, stall, restore', () => {
  let global: Plane;
  let proxy: TcpProxy;
  let zone: Zone;

  beforeAll(async () => {
    global = await startPlane('global-cp');
    proxy = await startTcpProxy(global.daemon.ready.syncPort as number);
    zone = await startZone(global, { name: 'zone-1', syncPort: proxy.port });
    await waitForZoneCaughtUp(global, zone.daemon.url);
  });

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    global?.dir.remove();
  });

  const issue = async (name: string) => (await jsonRequest('POST', `${global.url}/tokens/user`, { name, validFor: '1h' }, global.adminToken)).text;
  const revoke = async (token: string) => expect((await jsonRequest('POST', `${global.url}/tokens/user/revocations`, { token }, global.adminToken)).status).toBe(201);
  const onZone = (token: string) => rawRequest(`${zone.daemon.url}/who-am-i`, { headers: { authorization: `Bearer ${token}` } });

  async function outage(kind: 'drop' | 'stall') {
    const keeper = await issue(`keeper-${kind}`);
    const victim = await issue(`victim-${kind}`);
    expect((await onZone(victim)).status).toBe(200);
    const before = await syncStatus(zone.daemon.url);

    if (kind === 'drop') proxy.drop();
    else proxy.stall();
    // The zone notices: the stream ends (drop) or its heartbeats go unanswered (stall).
    await waitFor(`the zone to notice the ${kind}`, async () => {
      const s = await syncStatus(zone.daemon.url);
      return s.state !== 'connected' || s.reconnects > before.reconnects;
    });
    await revoke(victim);
    // Cut off, it keeps serving its last state: both tokens still work there.
    expect((await onZone(keeper)).status).toBe(200);
    expect((await onZone(victim)).status).toBe(200);

    const mark = global.daemon.output.length;
    proxy.restore();
    await waitForZoneCaughtUp(global, zone.daemon.url);
    const resumed = await waitForLogSince(global.daemon, mark, 'a delta to zone-1', (l) => l.msg === 'sync: sent delta' && l.zone === 'zone-1');
    expect(resumed.from).toBe(before.appliedVersion);
    expect(linesSince(global.daemon, mark).filter((l) => l.msg === 'sync: sending snapshot')).toEqual([]);
    const refused = await onZone(victim);
    expect(refused.status).toBe(401);
    expect(refused.json.detail).toMatch(/revoked/);
    expect((await onZone(keeper)).status).toBe(200);
  }

  it('drop: keeps serving, notices, catches up by delta', async () => {
    await outage('drop');
  });

  it('stall: keeps serving, detects the silent stream, catches up by delta', async () => {
    await outage('stall');
  });
});
