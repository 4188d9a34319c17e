import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaries, stopAll, tempDir } from '../../support/daemon.js';
import { startPlane, type Plane } from '../support/plane-fixture.js';

/**
 * meshctl given bad flags or values: a non-zero exit and a message on stderr that names what is
 * wrong, with no stack trace. A control plane that does not exist is configured, so a command that
 * reached the network instead of refusing its flags would fail with a message about the connection.
 */
const cases: [string, string[], RegExp][] = [
  ['an unknown global flag', ['--no-such-flag'], /no-such-flag|unknown option/i],
  ['an unknown command', ['frobnicate'], /frobnicate|unknown command/i],
  ['generate user-token without --name', ['generate', 'user-token', '--valid-for', '1h'], /name/i],
  ['generate zone-token with an unknown scope', ['generate', 'zone-token', '--zone', 'z', '--scope', 'admin', '--valid-for', '1h'], /scope/i],
  ['generate dataplane-token with a tag that is not k=v', ['generate', 'dataplane-token', '--name', 'a', '--mesh', 'default', '--tag', 'novalue', '--valid-for', '1h'], /tag/i],
  ['generate tls-certificate with an unknown --type', ['generate', 'tls-certificate', '--type', 'banana', '--cert-file', 'c.pem', '--key-file', 'k.pem'], /type/i],
  ['revoke user-token with neither --jti nor --token', ['revoke', 'user-token'], /jti|token/i],
  ['revoke user-token with both --jti and --token', ['revoke', 'user-token', '--jti', 'a', '--token', 'b.c.d'], /jti|token/i],
  ['inspect token with something that is not a JWT', ['inspect', 'token', 'not-a-jwt'], /token|jwt/i],
  ['apply -f a file that does not exist', ['apply', '-f', '/nonexistent/secret.yaml'], /nonexistent|no such file|not found/i],
  ['get global-secrets -o xml', ['get', 'global-secrets', '-o', 'xml'], /xml|output/i],
  ['config control-planes add with an address that is not a URL', ['config', 'control-planes', 'add', '--name', 'x', '--address', 'not a url'], /address|url/i],
  ['config control-planes switch to one that does not exist', ['config', 'control-planes', 'switch', '--name', 'nope'], /nope|not found|no control plane/i],
];

/** Runs the real meshctl with HOME and its config file in `home`. */
const meshctlIn = (home: string, configFile: string) => (args: string[]) =>
  spawnSync(process.execPath, [binaries.meshctl, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home, MESHCTL_CONFIG: configFile },
    cwd: home,
    encoding: 'utf8',
    timeout: 30_000,
  });

describe.skipIf(!existsSync(binaries.meshctl))('meshctl refuses bad flags with a message and a non-zero exit', () => {
  const home = tempDir('meshauth-rel-meshctl-');
  const configFile = join(home.path, 'config.yaml');
  const run = meshctlIn(home.path, configFile);
  // A configured control plane nothing listens on (port 9 is discard; connections are refused).
  const added = run(['config', 'control-planes', 'add', '--name', 'nowhere', '--address', 'http://127.0.0.1:9']);

  afterAll(() => home.remove());

  it('can configure the unreachable control plane the cases use', () => {
    expect(added.status, added.stderr).toBe(0);
  });

  it.each(cases)('%s', (_name, args, names) => {
    const result = run(args);
    expect(result.status, `exit code; stdout: ${result.stdout}`).not.toBe(0);
    expect(result.status).not.toBeNull();
    expect(result.stderr.trim().length).toBeGreaterThan(0);
    expect(result.stderr).toMatch(names);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(result.stderr).not.toMatch(/ECONNREFUSED|connect/i);
  });
});

/** Values meshctl passes on for the control plane to judge: the plane's 400 must reach the user. */
const serverJudged: [string, string[], RegExp][] = [
  ['generate user-token with a bad --valid-for', ['generate', 'user-token', '--name', 'a', '--valid-for', 'banana'], /validFor|valid-for|duration/i],
  ['generate user-token with a negative --valid-for', ['generate', 'user-token', '--name', 'a', '--valid-for', '-1h'], /validFor|valid-for|duration/i],
  ['generate user-token with a --valid-for above the maximum', ['generate', 'user-token', '--name', 'a', '--valid-for', '99999h'], /validFor|valid-for|at most/i],
  ['generate zone-token with a zone name that is not a DNS label', ['generate', 'zone-token', '--zone', 'Not_A_Zone', '--scope', 'cp', '--valid-for', '1h'], /zone/i],
];

describe.skipIf(!existsSync(binaries.meshctl))('meshctl reports values the control plane refuses, with a non-zero exit', () => {
  const home = tempDir('meshauth-rel-meshctl-');
  const configFile = join(home.path, 'config.yaml');
  let plane: Plane;
  const run = meshctlIn(home.path, configFile);

  beforeAll(async () => {
    plane = await startPlane('global-cp');
    const added = run(['config', 'control-planes', 'add', '--name', 'global', '--address', plane.url, '--auth-type', 'tokens', '--auth-conf', `token=${plane.adminToken}`]);
    expect(added.status, added.stderr).toBe(0);
  });

  afterAll(async () => {
    await plane?.dispose();
    await stopAll();
    home.remove();
  });

  it.each(serverJudged)('%s', (_name, args, names) => {
    const result = run(args);
    expect(result.status, `exit code; stdout: ${result.stdout}`).not.toBe(0);
    expect(result.status).not.toBeNull();
    expect(result.stderr).toMatch(names);
    expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(result.stdout).not.toMatch(/^eyJ/m);
  });
});
