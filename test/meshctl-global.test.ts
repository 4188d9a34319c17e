import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startDaemon, stopAll, tempDir } from './support/daemon.js';
import { createMeshctl, jwtHeader, jwtPayload, stackFrame, type Meshctl } from './support/meshctl.js';
import { waitFor } from './support/wait-for.js';

// Every meshctl command that talks to a control plane, run as the real binary against a real
// global-cp, in the order an operator following the docs would run them. Tests share the daemon
// and build on each other's state (rotation comes last: it retires the admin token's key).
describe('meshctl against a global control plane', () => {
  const dir = tempDir('meshctl-global-');
  /** Each identity gets its own meshctl config, as each person would have their own machine. */
  const admin = createMeshctl(join(dir.path, 'admin'));
  const as = (name: string) => createMeshctl(join(dir.path, name));
  let url: string;
  let adminToken: string;
  /** Configures a meshctl to use `token` against the global and returns it. */
  const withToken = async (meshctl: Meshctl, token: string) => {
    await meshctl.ok('config', 'control-planes', 'add', '--overwrite', '--name=global', `--address=${url}`, '--auth-type', 'tokens', '--auth-conf', `token=${token}`);
    return meshctl;
  };
  const userToken = async (...flags: string[]) => (await admin.ok('generate', 'user-token', ...flags)).stdout.trim();
  const verify = (token: string, ...flags: string[]) => admin.run(['inspect', 'token', token, '--verify', ...flags]);

  beforeAll(async () => {
    const global = await startDaemon('global-cp', {
      MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'),
      MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
    });
    url = global.url;
    // The docs' first step: read the admin user token from localhost, where no token is needed.
    const local = as('localhost');
    await local.ok('config', 'control-planes', 'add', '--name=local', `--address=${url}`);
    const secret = JSON.parse((await local.ok('get', 'global-secret', 'admin-user-token', '-o', 'json')).stdout);
    adminToken = Buffer.from(secret.data, 'base64').toString('utf8');
    await withToken(admin, adminToken);
  });
  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('who-am-i shows the admin user token as mesh-system:admin, as a table, JSON or YAML', async () => {
    const [table, json, yaml] = await Promise.all([admin.ok('who-am-i'), admin.ok('who-am-i', '-o', 'json'), admin.ok('who-am-i', '-o', 'yaml')]);
    expect(table.stdout).toMatch(/^NAME\s+GROUPS\nmesh-system:admin\s+mesh-system:admin,mesh-system:authenticated\n$/);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin', 'mesh-system:authenticated'] });
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it("generate user-token prints only the token, and pipes into inspect token - laid out as the docs show it", async () => {
    const started = Math.floor(Date.now() / 1000);
    const result = await admin.shell('meshctl generate user-token --name=john --group=team-a --valid-for=24h | meshctl inspect token -', { env: { TZ: 'UTC' } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const match = new RegExp(
      [
        '^✻ Header',
        '\\{',
        '  "alg": "RS256",',
        '  "kid": "1",',
        '  "typ": "JWT"',
        '\\}',
        '✻ Payload',
        '\\{',
        '  "Name": "john",',
        '  "Groups": \\[',
        '    "team-a"',
        '  \\],',
        '  "exp": (\\d+),',
        '  "nbf": (\\d+),',
        '  "iat": (\\d+),',
        '  "jti": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"',
        '\\}',
        'Issued At: (\\d+) (.+)',
        'Not Before: (\\d+) (.+)',
        'Expiration Time: (\\d+) (.+)',
        '✻ Signature [A-Za-z0-9_-]{300,}',
        '$',
      ].join('\n'),
    ).exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [exp, nbf, iat, iatAgain, iatHuman, nbfAgain, nbfHuman, expAgain, expHuman] = match!.slice(1);
    expect([iatAgain, nbfAgain, expAgain]).toEqual([iat, nbf, exp]);
    expect(Number(exp) - Number(iat)).toBe(24 * 3600);
    expect(Number(iat) - Number(nbf)).toBe(300);
    expect(Number(iat)).toBeGreaterThanOrEqual(started - 1);
    expect(Number(iat)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const human = (seconds: string) => new Date(Number(seconds) * 1000).toLocaleString('en-US', { timeZone: 'UTC' }).replace(/[\u202f\u00a0]/g, ' ');
    expect([iatHuman, nbfHuman, expHuman]).toEqual([human(iat!), human(nbf!), human(exp!)]);
    expect(iatHuman).toMatch(/^\d{1,2}\/\d{1,2}\/\d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/);

    const alone = await admin.ok('generate', 'user-token', '--name', 'john', '--group', 'team-a', '--group', 'team-b', '--valid-for', '1h30m');
    expect(alone.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(jwtPayload(alone.stdout)).toMatchObject({ Name: 'john', Groups: ['team-a', 'team-b'] });
  });

  it('inspect token --verify says valid, then revoked after revoke user-token --jti or --token', async () => {
    const [byJti, byToken] = await Promise.all([userToken('--name=alice', '--valid-for=1h'), userToken('--name=bob', '--valid-for=1h')]);
    const valid = await verify(byJti);
    expect(valid).toMatchObject({ code: 0, stderr: '' });
    expect(valid.stdout).toMatch(/\n✻ Signature [\w-]+\nVerification: valid\n$/);

    const jti = jwtPayload(byJti).jti as string;
    const [revokedJti, revokedToken] = await Promise.all([
      admin.ok('revoke', 'user-token', '--jti', jti),
      admin.run(['revoke', 'user-token', '--token', '-'], { stdin: `${byToken}\n` }),
    ]);
    expect(revokedJti.stdout).toBe(`revoked user token ${jti}\n`);
    const exp = new Date(jwtPayload(byToken).exp * 1000).toISOString();
    expect(revokedToken).toMatchObject({ code: 0, stderr: '', stdout: `revoked user token ${jwtPayload(byToken).jti} (it would have expired at ${exp})\n` });

    const [table, json] = await Promise.all([verify(byJti), verify(byToken, '-o', 'json')]);
    expect(table.code).toBe(1);
    expect(table.stderr).toBe('');
    expect(table.stdout).toMatch(/\nVerification: revoked \(user token is revoked\)\n$/);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ payload: { Name: 'bob' }, verification: { verdict: 'revoked' } });

    // The control plane refuses it too, with the reason.
    const bob = await withToken(as('bob'), byToken);
    const refused = await bob.run(['who-am-i']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toBe('Error [ERR_TOKEN_REVOKED]: 401 Unauthorized: user token is revoked\n');
  });

  it('an expired token: --verify says expired and the control plane answers 401 with the reason', async () => {
    const token = await userToken('--name=brief', '--valid-for=1s');
    expect(jwtPayload(token).exp - jwtPayload(token).iat).toBe(1);
    const expired = await waitFor('the token to expire', async () => {
      const run = await verify(token);
      return run.stdout.includes('Verification: expired') ? run : undefined;
    });
    expect(expired.code).toBe(1);
    const brief = await withToken(as('brief'), token);
    const refused = await brief.run(['get', 'global-secrets']);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^Error \[ERR_TOKEN_EXPIRED\]: 401 Unauthorized: user token expired at \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
  });

  it('a user outside adminResources gets a 403 naming the rule; --verbose adds the stack', async () => {
    const john = await withToken(as('john'), await userToken('--name=john', '--group=team-a', '--valid-for=1h'));
    const [me, plain, verbose] = await Promise.all([john.ok('who-am-i', '-o', 'json'), john.run(['get', 'global-secrets']), john.run(['get', 'global-secrets', '--verbose'])]);
    expect(JSON.parse(me.stdout)).toEqual({ name: 'john', groups: ['team-a', 'mesh-system:authenticated'] });
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^Error \[ERR_FORBIDDEN\]: 403 Forbidden: user "john" \(groups: team-a, mesh-system:authenticated\) is not allowed to adminResources; allowed by access\.static\.adminResources users\/groups\n$/);
    expect(verbose.code).not.toBe(0);
    expect(verbose.stderr.split('\n')[0]).toBe(plain.stderr.trim());
    expect(verbose.stderr).toMatch(stackFrame);
    // In the docs' pipeline, a refused generate says why, and inspect says it got nothing.
    const piped = await john.shell('meshctl generate user-token --name=mallory --group=mesh-system:admin --valid-for=1h | meshctl inspect token -');
    expect(piped.code).not.toBe(0);
    expect(piped.stdout).toBe('');
    expect(piped.stderr).toMatch(/^Error \[ERR_FORBIDDEN\]: 403 Forbidden: user "john" .* not allowed to generateUserToken; [^\n]+\nError: no token on stdin\n$/);
  });

  it('generate zone-token prints only its token, with the claims asked for; dataplane-token says to ask the zone', async () => {
    const [zone, zoneAll, dataplane] = await Promise.all([
      admin.ok('generate', 'zone-token', '--zone=west', '--scope=cp', '--valid-for=720h'),
      admin.ok('generate', 'zone-token', '--zone=east', '--scope', 'ingress', '--scope', 'egress', '--valid-for=1h'),
      admin.run(['generate', 'dataplane-token', '--name=backend-01', '--mesh=default', '--tag', 'kuma.io/service=backend', '--valid-for=24h']),
    ]);
    for (const run of [zone, zoneAll]) expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(jwtHeader(zone.stdout)).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    expect(jwtPayload(zone.stdout)).toMatchObject({ Zone: 'west', Scope: ['cp'] });
    expect(jwtPayload(zone.stdout).exp - jwtPayload(zone.stdout).iat).toBe(720 * 3600);
    expect(jwtPayload(zoneAll.stdout)).toMatchObject({ Zone: 'east', Scope: ['ingress', 'egress'] });
    expect(dataplane).toMatchObject({ code: 1, stdout: '' });
    expect(dataplane.stderr).toMatch(/^Error \[ERR_CONFLICT\]: 409 Conflict: global does not issue dataplane tokens: .*; ask the zone control plane \(.*\)\n$/);
  });

  it('apply -f creates and updates GlobalSecrets and Secrets from YAML and JSON; get and delete show and remove them', async () => {
    const file = (name: string, text: string) => {
      const path = join(dir.path, name);
      writeFileSync(path, text);
      return path;
    };
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const yaml = file('secrets.yaml', `type: GlobalSecret\nname: sample-global\ndata: ${b64('hello')}\n---\ntype: Secret\nmesh: default\nname: sample-secret\ndata: ${b64('mesh value')}\n`);
    const json = file('secret.json', JSON.stringify({ type: 'GlobalSecret', name: 'json-global', data: b64('{"a":1}') }));
    const jsonSecret = file('mesh-secret.json', JSON.stringify({ type: 'Secret', mesh: 'payments', name: 'db-password', data: b64('s3cret') }, null, 2));
    const [applied, appliedJson, appliedJsonSecret] = await Promise.all([admin.ok('apply', '-f', yaml), admin.ok('apply', '-f', json), admin.ok('apply', '-f', jsonSecret)]);
    expect(applied.stdout).toBe('GlobalSecret "sample-global" created\nSecret "sample-secret" in mesh "default" created\n');
    expect(appliedJson.stdout).toBe('GlobalSecret "json-global" created\n');
    expect(appliedJsonSecret.stdout).toBe('Secret "db-password" in mesh "payments" created\n');
    const changed = file('changed.yaml', `type: GlobalSecret\nname: sample-global\ndata: ${b64('hello again')}\n`);
    expect((await admin.ok('apply', '-f', changed)).stdout).toBe('GlobalSecret "sample-global" updated\n');

    const [table, listJson, listYaml, one, oneYaml, oneTable, mesh, meshList] = await Promise.all([
      admin.ok('get', 'global-secrets'),
      admin.ok('get', 'global-secrets', '-o', 'json'),
      admin.ok('get', 'global-secrets', '-o', 'yaml'),
      admin.ok('get', 'global-secret', 'sample-global', '-o', 'json'),
      admin.ok('get', 'global-secret', 'json-global', '-o', 'yaml'),
      admin.ok('get', 'global-secret', 'json-global'),
      admin.ok('get', 'secret', 'sample-secret', '--mesh', 'default', '-o', 'json'),
      admin.ok('get', 'secrets', '--mesh', 'payments', '-o', 'yaml'),
    ]);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+TYPE$/);
    for (const name of ['admin-user-token', 'json-global', 'sample-global', 'user-token-signing-key-1']) {
      expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${name}\\s+GlobalSecret$`)));
    }
    const names = JSON.parse(listJson.stdout).items.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining(['admin-user-token', 'json-global', 'sample-global', 'user-token-signing-key-1']));
    expect(parse(listYaml.stdout)).toEqual(JSON.parse(listJson.stdout));
    expect(JSON.parse(one.stdout)).toMatchObject({ type: 'GlobalSecret', name: 'sample-global', data: b64('hello again') });
    expect(parse(oneYaml.stdout)).toMatchObject({ type: 'GlobalSecret', name: 'json-global', data: b64('{"a":1}') });
    expect(oneTable.stdout).toMatch(/^NAME\s+TYPE\njson-global\s+GlobalSecret\n$/);
    expect(oneTable.stdout).not.toContain(b64('{"a":1}'));
    expect(JSON.parse(mesh.stdout)).toMatchObject({ type: 'Secret', mesh: 'default', name: 'sample-secret', data: b64('mesh value') });

    expect(parse(meshList.stdout).items).toEqual([expect.objectContaining({ type: 'Secret', mesh: 'payments', name: 'db-password', data: b64('s3cret') })]);

    const [deleted, deletedSecret] = await Promise.all([
      admin.ok('delete', 'global-secret', 'sample-global'),
      admin.ok('delete', 'secret', 'db-password', '--mesh', 'payments'),
    ]);
    expect(deleted.stdout).toBe('deleted GlobalSecret "sample-global"\n');
    expect(deletedSecret.stdout).toBe('deleted Secret "db-password" in mesh "payments"\n');
    const [gone, goneSecret] = await Promise.all([admin.run(['get', 'global-secret', 'sample-global']), admin.run(['get', 'secrets', '--mesh', 'payments'])]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/^Error \[ERR_NOT_FOUND\]: 404 Not Found: .*sample-global.*\n$/);
    expect(goneSecret).toMatchObject({ code: 0, stdout: 'MESH   NAME   TYPE\n' });

    const bad = await admin.run(['apply', '-f', file('bad.yaml', 'type: Mesh\nname: default\n')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^Error: .*bad\.yaml: type "Mesh" is not supported \(use GlobalSecret or Secret\)\n$/);
  });

  it("the docs' revocation list: apply user-token-revocations with --var from stdin revokes by jti", async () => {
    const token = await userToken('--name=carol', '--valid-for=1h');
    const jti = jwtPayload(token).jti as string;
    // The apply example of meshctl's --help, verbatim but for the jti.
    const applied = await admin.shell(
      'echo "\ntype: GlobalSecret\nname: user-token-revocations\ndata: {{ revocations }}\n" | \\\n' +
        `  meshctl apply --var revocations=$(printf %s ${jti} | base64) -f -`,
    );
    expect(applied).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/^GlobalSecret "user-token-revocations" (created|updated)\n$/) });
    const verdict = await verify(token);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout).toMatch(/\nVerification: revoked/);
  });

  it("rotate signing-key prints the docs' next steps; following them retires the old key; --remove-old does it at once", async () => {
    const oldToken = await userToken('--name=dave', '--valid-for=1h');
    expect(jwtHeader(oldToken).kid).toBe('1');

    const rotated = await admin.ok('rotate', 'signing-key');
    const lines = rotated.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('created user-token-signing-key-2; new user tokens are signed by it');
    const deleteCommand = lines.find((line) => line.trim().startsWith('meshctl delete'))?.trim();
    expect(deleteCommand).toBe('meshctl delete global-secret user-token-signing-key-1');

    // Step 2 of the docs: regenerate tokens (meshctl's own first), now signed by key 2.
    const newAdmin = await userToken('--name=mesh-system:admin', '--group=mesh-system:admin', '--valid-for=1h');
    expect(jwtHeader(newAdmin).kid).toBe('2');
    await withToken(admin, newAdmin);
    const [oldStillValid, newValid] = await Promise.all([verify(oldToken), verify(newAdmin)]);
    expect(oldStillValid.stdout).toMatch(/Verification: valid\n$/);
    expect(newValid.stdout).toMatch(/Verification: valid\n$/);

    // Step 3: the command rotate printed, as printed.
    expect(await admin.shell(deleteCommand!)).toMatchObject({ code: 0, stderr: '', stdout: 'deleted GlobalSecret "user-token-signing-key-1"\n' });
    const unknown = await verify(oldToken);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/\nVerification: unknown key \(the control plane has no signing key with kid 1\)\n$/);
    const dave = await withToken(as('dave'), oldToken);
    const refused = await dave.run(['who-am-i']);
    expect(refused.stderr).toBe('Error [ERR_TOKEN_KEY_ROTATED]: 401 Unauthorized: user token was signed with signing key 1, which has been rotated out; regenerate the token\n');

    // Compromised key: rotate and remove in one go; meshctl's own token (key 2) goes last.
    const removed = await admin.ok('rotate', 'signing-key', '--remove-old');
    expect(removed.stdout).toBe(
      'created user-token-signing-key-3; new user tokens are signed by it\n' +
        'removed user-token-signing-key-2\n' +
        `warning: the token of control plane "global" in ${admin.configPath} was signed by a removed key and no longer works; configure a token issued after this rotation\n`,
    );
    const [stale, local] = await Promise.all([verify(newAdmin), as('localhost').ok('get', 'global-secrets', '-o', 'json')]);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/Verification: unknown key/);
    const keys = JSON.parse(local.stdout).items.map((s: { name: string }) => s.name).filter((n: string) => n.startsWith('user-token-signing-key-'));
    expect(keys).toEqual(['user-token-signing-key-3']);
  });
});
