import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { createMeshctl } from './support/meshctl.js';

// A dataplane token is checked by the dp-server of the zone it names: global, which has no
// dp-server and whose token would name no zone, refuses to issue one and says where to ask.
describe('global-cp POST /tokens/dataplane', () => {
  const dir = tempDir();
  let global: Daemon;
  let admin: string;

  beforeAll(async () => {
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_GROUPS: 'team-a' });
    admin = await readAdminToken(global.url);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const body = { name: 'web-1', mesh: 'default', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validFor: '1h' };

  it('answers 409 saying to ask the zone, to a user the access rule allows, and issues nothing', async () => {
    const alice = await issueUserToken(global.url, admin, 'alice', ['team-a']);
    const refused = await http('POST', `${global.url}/tokens/dataplane`, { token: alice, body });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.json.detail).toMatch(/^global does not issue dataplane tokens: .* ask the zone control plane/);
    const secrets = await http('GET', `${global.url}/meshes/default/secrets`, { token: admin });
    expect(secrets.json.items ?? []).toEqual([]);
  });

  it('still refuses a user outside the generateDpToken rule with 403 first', async () => {
    const bob = await issueUserToken(global.url, admin, 'bob', ['team-b']);
    const refused = await http('POST', `${global.url}/tokens/dataplane`, { token: bob, body });
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/"bob".*generateDpToken/);
  });

  it('meshctl generate dataplane-token against global: one line on stderr, non-zero exit, no token', async () => {
    const meshctl = createMeshctl(join(dir.path, 'meshctl'));
    const alice = await issueUserToken(global.url, admin, 'alice', ['team-a']);
    await meshctl.ok('config', 'control-planes', 'add', '--name=global', `--address=${global.url}`, '--auth-type', 'tokens', '--auth-conf', `token=${alice}`);
    const run = await meshctl.run(['generate', 'dataplane-token', '--name=dp-1', '--mesh=default', '--valid-for=24h']);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^Error \[ERR_CONFLICT\]: 409 Conflict: global does not issue dataplane tokens: .*ask the zone control plane/);
  });
});
