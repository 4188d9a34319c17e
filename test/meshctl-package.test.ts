/**
 * meshctl on its own: `pnpm pack:meshctl` makes a tarball that `npm i -g` installs into a fresh
 * prefix with `meshctl` on PATH and nothing of the workspace (no @meshauth/core, no SQLite, no
 * fastify), which then works against a real global-cp: config, who-am-i, a certificate through
 * core's bundled generator, and a bash completion script that completes real commands.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startDaemon, stopAll, tempDir } from './support/daemon.js';

const run = promisify(execFile);
const dir = tempDir('meshauth-meshctl-package-');
const prefix = join(dir.path, 'prefix');
const home = join(dir.path, 'home');
let tarball = '';

/** A shell with only the install's bin folder and node on PATH, as a user after `npm i -g` has. */
const env = () => ({ PATH: `${join(prefix, 'bin')}:${join(process.execPath, '..')}:/usr/bin:/bin`, HOME: home });
const meshctl = (args: string[]) => run('meshctl', args, { env: env(), cwd: dir.path });

beforeAll(async () => {
  const packed = await run(process.execPath, [join(repoRoot, 'scripts/pack-meshctl.mjs'), '--out', join(dir.path, 'out')]);
  tarball = packed.stdout.trim();
  // --prefer-offline: node-forge, the one dependency, comes from npm's cache when it is there.
  await run('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 240_000 });
}, 300_000);

afterAll(async () => {
  await stopAll();
  dir.remove();
});

describe('the packed meshctl', () => {
  it('is a tarball of the bin shim, one bundled file and a manifest that names no workspace package', async () => {
    expect(tarball).toMatch(/meshctl-\d+\.\d+\.\d+\.tgz$/);
    const listing = (await run('tar', ['tzf', tarball])).stdout.trim().split('\n').sort();
    expect(listing).toEqual(['package/bin/meshctl.js', 'package/dist/main.js', 'package/package.json']);
    const manifest = JSON.parse((await run('tar', ['xzfO', tarball, 'package/package.json'])).stdout) as { bin: Record<string, string>; dependencies: Record<string, string> };
    expect(manifest.bin).toEqual({ meshctl: './bin/meshctl.js' });
    expect(Object.keys(manifest.dependencies)).toEqual(['node-forge']);
    for (const version of Object.values(manifest.dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('installs with npm i -g into a prefix, puts meshctl on PATH and brings nothing of the server stack', async () => {
    expect(existsSync(join(prefix, 'bin', 'meshctl'))).toBe(true);
    const ctlManifest = JSON.parse(readFileSync(join(repoRoot, 'packages/ctl/package.json'), 'utf8')) as { version: string };
    expect((await meshctl(['--version'])).stdout.trim()).toBe(ctlManifest.version);
    const installed = join(prefix, 'lib', 'node_modules', '@meshauth', 'meshctl', 'node_modules');
    expect(readdirSync(installed).sort()).toEqual(['node-forge']);
  });

  it('works against a real global-cp: config, who-am-i, and a certificate from the bundled generator', async () => {
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') });
    expect((await meshctl(['config', 'control-planes', 'add', '--name', 'global', '--address', global.url])).stdout).toContain('added control plane "global"');
    expect((await meshctl(['who-am-i', '-o', 'json'])).stdout).toContain('"name": "mesh-system:admin"');
    await meshctl(['generate', 'tls-certificate', '--type', 'client', '--cert-file', 'c.pem', '--key-file', 'k.pem']);
    expect(readFileSync(join(dir.path, 'c.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const refused = await meshctl(['config', 'control-planes', 'add', '--name', 'bad', '--address', global.url, '--auth-type', 'tokens', '--auth-conf', 'token=a\nb']).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('--auth-conf token is not a valid HTTP header value (U+000A at position 2)') });
  }, 120_000);

  it('prints a bash completion script that completes commands and options', async () => {
    const script = (await meshctl(['completion', 'bash'])).stdout;
    const file = join(dir.path, 'meshctl-completion.bash');
    writeFileSync(file, script);
    const complete = async (words: string[]) => {
      const line = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _meshctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return (await run('bash', ['-c', line], { env: env() })).stdout.trim().split('\n').filter(Boolean);
    };
    expect(await complete(['meshctl', 'ge'])).toEqual(['generate', 'get']);
    expect(await complete(['meshctl', '--config-file', 'x.yaml', 'generate', ''])).toEqual(expect.arrayContaining(['user-token', 'zone-token', 'dataplane-token', 'tls-certificate']));
    expect(await complete(['meshctl', 'generate', 'user-token', '--valid'])).toEqual(['--valid-for']);
    expect(await complete(['meshctl', 'config', 'control-planes', ''])).toEqual(expect.arrayContaining(['add', 'list', 'switch', 'remove']));
    const zsh = (await meshctl(['completion', 'zsh'])).stdout;
    expect(zsh.split('\n')[0]).toBe('#compdef meshctl');
    expect(zsh).toContain('complete -F _meshctl meshctl');
    const wrong = await meshctl(['completion', 'fish']).catch((e: { code: number; stderr: string }) => e);
    expect(wrong).toMatchObject({ code: 1, stderr: expect.stringContaining("value 'fish' is invalid for argument 'shell'. Allowed choices are bash, zsh") });
  });
});
