import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stopAll, tempDir } from './support/daemon.js';
import { createMeshctl, jwtPayload } from './support/meshctl.js';
import { startGlobal, startZone, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

// meshctl across a global and a zone: the zone is set up with a token meshctl generated, global's
// `inspect zones` shows it, and the same admin user token works on the zone once keys have synced.
describe('meshctl with a global and a zone', () => {
  const dir = tempDir('meshctl-zones-');
  const onGlobal = createMeshctl(join(dir.path, 'global'));
  const onZone = createMeshctl(join(dir.path, 'zone'));
  let global: Global;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
    await onGlobal.ok('config', 'control-planes', 'add', '--name=global', `--address=${global.url}`, '--auth-type=tokens', '--auth-conf', `token=${global.adminToken}`);
    // The zone-token example of meshctl's --help.
    const tokenFile = join(dir.path, 'west-token');
    const generated = await onGlobal.shell(`meshctl generate zone-token --zone=west --scope=cp --valid-for=720h > ${tokenFile}`);
    expect(generated).toMatchObject({ code: 0, stderr: '', stdout: '' });
    const zone = await startZone('west', join(dir.path, 'west.db'), { mode: 'public', globalAddress: global.syncAddress, tokenFile });
    await onZone.ok('config', 'control-planes', 'add', '--name=west', `--address=${zone.url}`, '--auth-type=tokens', '--auth-conf', `token=${global.adminToken}`);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('inspect zones shows the zone connected and caught up, as a table, JSON or YAML', async () => {
    const json = await waitFor('west to be connected and caught up', async () => {
      const run = await onGlobal.ok('inspect', 'zones', '-o', 'json');
      const west = JSON.parse(run.stdout).items.find((z: { zone: string }) => z.zone === 'west');
      return west?.connected === true && west.versionsBehind === 0 && west.lastAckAt !== null ? run : undefined;
    });
    expect(JSON.parse(json.stdout).items).toEqual([expect.objectContaining({ zone: 'west', connected: true, mode: 'public', versionsBehind: 0, lagMs: 0, lastError: null })]);
    const [table, yaml] = await Promise.all([onGlobal.ok('inspect', 'zones'), onGlobal.ok('inspect', 'zones', '-o', 'yaml')]);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ZONE\s+CONNECTED\s+MODE\s+ACKED VERSION\s+BEHIND\s+LAG\s+LAST ACK\s+LAST ERROR$/);
    expect(lines[1]).toMatch(/^west\s+yes\s+public\s+\d+\s+0\s+0ms\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+-$/);
    expect(lines).toHaveLength(2);
    expect(parse(yaml.stdout).items[0]).toMatchObject({ zone: 'west', connected: true });
  });

  it("the admin user token from global works on the zone: who-am-i, --verify against the zone's JWKS, dataplane tokens", async () => {
    const [me, verified, dataplane] = await Promise.all([
      onZone.ok('who-am-i', '-o', 'json'),
      onZone.run(['inspect', 'token', global.adminToken, '--verify']),
      onZone.ok('generate', 'dataplane-token', '--name=web-01', '--mesh=default', '--tag', 'kuma.io/service=web', '--valid-for=1h'),
    ]);
    expect(JSON.parse(me.stdout)).toMatchObject({ name: 'mesh-system:admin' });
    expect(verified).toMatchObject({ code: 0, stderr: '' });
    expect(verified.stdout).toMatch(/\nVerification: valid\n$/);
    expect(jwtPayload(dataplane.stdout)).toMatchObject({ Name: 'web-01', Mesh: 'default', Zone: 'west', Tags: { 'kuma.io/service': ['web'] } });
  });

  it('inspect zones on a zone says to ask global; inspect sync shows the zone its own status, and on global says to ask the zone', async () => {
    const zones = await onZone.run(['inspect', 'zones']);
    expect(zones).toMatchObject({ code: 1, stdout: '' });
    expect(zones.stderr).toMatch(/^Error \[ERR_NOT_FOUND\]: 404 Not Found: this is zone control plane "west": the zones are listed by global; ask the global control plane \(.*meshctl inspect zones.*\)\. This zone's own sync status: GET \/sync\/status \(meshctl inspect sync\)\n$/);

    const status = await waitFor('west to report connected', async () => {
      const run = await onZone.ok('inspect', 'sync', '-o', 'json');
      return JSON.parse(run.stdout).state === 'connected' ? JSON.parse(run.stdout) : undefined;
    });
    expect(status).toMatchObject({ zone: 'west', mode: 'public', effectiveMode: 'public', globalAddress: global.syncAddress, leader: true, lastError: null });
    const table = (await onZone.ok('inspect', 'sync')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^ZONE\s+STATE\s+MODE\s+GLOBAL\s+APPLIED VERSION\s+GLOBAL VERSION\s+LAST CONTACT\s+LEADER\s+LAST ERROR$/);
    expect(table[1]).toMatch(new RegExp(`^west\\s+connected\\s+public\\s+${global.syncAddress.replace(/[.:/]/g, '\\$&')}\\s+${status.appliedVersion}\\s+\\d+\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+yes\\s+-$`));
    expect(table).toHaveLength(2);

    const onGlobalSync = await onGlobal.run(['inspect', 'sync']);
    expect(onGlobalSync).toMatchObject({ code: 1, stdout: '' });
    expect(onGlobalSync.stderr).toMatch(/^Error \[ERR_NOT_FOUND\]: 404 Not Found: this is the global control plane: .*ask the zone control plane \(.*meshctl inspect sync.*\)\. Every zone as global sees it: GET \/zones \(meshctl inspect zones\)\n$/);
  });
});
