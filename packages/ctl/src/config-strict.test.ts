import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { loadConfig } from './config-file.js';
import { memoryIo } from './test-support/memory-io.js';

/** meshctl's config file is strict like the daemons': every mistake is named where it is made. */
describe('meshctl config strictness', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshctl-strict-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (args: string[], env: NodeJS.ProcessEnv = { MESHCTL_CONFIG: join(dir, 'config.yaml') }) => {
    const io = memoryIo({ env });
    const code = await runCli(['node', 'meshctl', ...args], io);
    return { code, out: io.out, err: io.err };
  };

  it.each([
    ['currentContex: a\n', 'currentContex is not a known key (known here: controlPlanes, currentContext)'],
    ['controlPlanes:\n  - name: a\n    coordinates: {apiServer: {url: "http://x", tokn: y}}\n', 'controlPlanes[0].coordinates.apiServer.tokn is not a known key'],
    ['controlPlanes:\n  - name: a\n    coordinates: {apiServer: {url: "http://x", authConf: {token: t, user: u}}}\n', 'controlPlanes[0].coordinates.apiServer.authConf.user is not a known key'],
    ['controlPlanes:\n  - name: a\n    kind: kuma\n    coordinates: {apiServer: {url: "http://x"}}\n', 'controlPlanes[0].kind is not a known key'],
    ['controlPlanes:\n  - name: a\n    coordinates: {apiServer: {url: "http://x", skipVerify: "yes"}}\n', 'controlPlanes[0].coordinates.apiServer.skipVerify must be a boolean'],
    ['controlPlanes:\n  - name: a\n    coordinates: {apiServer: {url: "http://x", authConf: {token: "a\\nb"}}}\n', 'authConf.token is not a valid HTTP header value (U+000A at position 2)'],
  ])('refuses %j, naming the key', async (yaml, message) => {
    const path = join(dir, 'config.yaml');
    await writeFile(path, yaml);
    await expect(loadConfig(path)).rejects.toMatchObject({ code: 'ERR_CONFIG', message: expect.stringContaining(message) });
    const result = await run(['who-am-i']);
    expect(result.code).toBe(1);
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(result.err).toContain(message);
  });

  it('refuses a --config-file that does not exist, naming it, for every command but add (which creates it)', async () => {
    const missing = join(dir, 'nope.yaml');
    for (const args of [['who-am-i'], ['config', 'control-planes', 'list'], ['config', 'control-planes', 'switch', '--name', 'x']]) {
      const result = await run(['--config-file', missing, ...args], {});
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.err).toBe(`Error: --config-file ${missing}: no such file (config control-planes add creates it)\n`);
    }
    const added = await run(['--config-file', missing, 'config', 'control-planes', 'add', '--name', 'a', '--address', 'http://127.0.0.1:1'], {});
    expect(added.code, added.err).toBe(0);
    expect((await run(['--config-file', missing, 'config', 'control-planes', 'list'], {})).code).toBe(0);
  });

  it.each([
    ['a token pasted with its line break', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln\nnext', 'U+000A at position 30'],
    ['a token with a control character', 'eyJ\u0007abc', 'U+0007 at position 4'],
    ['a token with a character beyond Latin-1', 'eyJ…', 'U+2026 at position 4'],
  ])('refuses %s at config control-planes add, before anything is written', async (_what, token, where) => {
    const result = await run(['config', 'control-planes', 'add', '--name', 'a', '--address', 'http://127.0.0.1:1', '--auth-type', 'tokens', '--auth-conf', `token=${token}`]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(`Error: --auth-conf token is not a valid HTTP header value (${where}): paste the token alone, on one line\n`);
    expect((await run(['config', 'control-planes', 'list', '-o', 'json'])).out).toBe('[]\n');
  });
});
