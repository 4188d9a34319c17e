/**
 * The diagnostics port (Kuma's 5680): GET /healthy and GET /ready on real daemons. Global is
 * ready once started; a zone with sync on once it has synced with global, and, under
 * `deny-after:<d>`, only while it has heard global within d. The ready line names the port, and
 * its admin-token hint the HTTP port actually bound.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir } from './support/daemon.js';
import { bash } from './support/shell.js';
import { startGlobal, startZone, writeZoneToken } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const dir = tempDir('meshauth-diagnostics-');
afterAll(async () => {
  await stopAll();
  dir.remove();
});

const probe = async (port: unknown, path: string, method = 'GET') => {
  const response = await fetch(`http://127.0.0.1:${port as number}${path}`, { method });
  return { status: response.status, text: (await response.text()).trim() };
};

describe('the diagnostics server', () => {
  it('on global: /healthy and /ready answer 200 once started; nothing else is served there', async () => {
    const global = await startGlobal(join(dir.path, 'global.db'));
    const port = global.daemon.ready.diagnosticsPort;
    expect(port).toEqual(expect.any(Number));
    expect(port).not.toBe(global.daemon.httpPort);
    expect(await probe(port, '/healthy')).toEqual({ status: 200, text: 'healthy' });
    expect(await probe(port, '/ready')).toEqual({ status: 200, text: 'ready' });
    expect((await probe(port, '/global-secrets/admin-user-token')).status).toBe(404);
    expect((await probe(port, '/ready', 'POST')).status).toBe(405);
  });

  it("the ready line's admin-token hint names the bound HTTP port, and running it gives the admin token", async () => {
    const global = await startGlobal(join(dir.path, 'hint.db'));
    const hint = global.daemon.ready.adminToken as string;
    expect(hint).toBe(`curl -s localhost:${global.daemon.httpPort}/global-secrets/admin-user-token | jq -r .data | base64 -d`);
    const run = await bash(hint);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(global.adminToken);
  });

  it('on a zone: not ready until synced, ready once synced, not ready when deny-after has run out, ready again when global is back', async () => {
    const globalStore = join(dir.path, 'global-2.db');
    let global = await startGlobal(globalStore);
    const tokenFile = await writeZoneToken(global, dir.path, 'zone-1');
    const zone = await startZone('zone-1', join(dir.path, 'zone.db'), {
      globalAddress: global.syncAddress,
      tokenFile,
      env: { MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY: 'deny-after:1s' },
    });
    const port = zone.ready.diagnosticsPort;
    expect(await probe(port, '/healthy')).toEqual({ status: 200, text: 'healthy' });
    await waitFor('the zone to be ready', async () => (await probe(port, '/ready')).status === 200);

    const syncPort = global.syncPort;
    await global.daemon.stop();
    const denied = await waitFor('the down policy to make the zone unready', async () => {
      const answer = await probe(port, '/ready');
      return answer.status === 503 ? answer : undefined;
    });
    expect(denied.text).toMatch(/^not ready: no contact with the global control plane for .+ \(down policy deny-after:1s\)$/);
    expect((await probe(port, '/healthy')).status).toBe(200);

    global = await startGlobal(globalStore, { MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: String(syncPort) });
    await waitFor('the zone to be ready again', async () => (await probe(port, '/ready')).status === 200);
  }, 120_000);

  it('on a zone that has never reached global: healthy, not ready, saying why', async () => {
    const zone = await startZone('zone-2', join(dir.path, 'lonely.db'), { globalAddress: 'grpc://127.0.0.1:1', tokenFile: join(dir.path, 'none.token') });
    expect(await probe(zone.ready.diagnosticsPort, '/ready')).toEqual({ status: 503, text: 'not ready: not synced with the global control plane yet' });
    expect((await probe(zone.ready.diagnosticsPort, '/healthy')).status).toBe(200);
  });

  it('on an independent zone (sync off): ready once started', async () => {
    const zone = await startZone('zone-3', join(dir.path, 'independent.db'), { mode: 'off' });
    expect(await probe(zone.ready.diagnosticsPort, '/ready')).toEqual({ status: 200, text: 'ready' });
  });
});
