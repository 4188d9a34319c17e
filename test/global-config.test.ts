import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binaries, startDaemon, stopAll, tempDir } from './support/daemon.js';
import { http } from './support/http.js';
import { bash } from './support/shell.js';

/** Starting global-cp: bad settings stop it with one line naming the setting; env wins over the file. */
const dir = tempDir();

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const run = (args: string, env = '') => bash(`cd ${dir.path} && ${env} node ${binaries['global-cp']} ${args}`);

describe('global-cp start-up configuration', () => {
  it.each([
    ['MESHAUTH_API_SERVER_HTTP_PROT=1', 'MESHAUTH_API_SERVER_HTTP_PROT is not a known setting'],
    ['MESHAUTH_API_SERVER_HTTP_PORT=http', 'MESHAUTH_API_SERVER_HTTP_PORT must be an integer, got "http"'],
    ['MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN=no', 'MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN must be true or false'],
  ])('refuses %s with exit 1 and one line naming it', async (env, message) => {
    const result = await run('', env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('refuses an unknown key in the --config file, naming it', async () => {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, 'apiServer:\n  authn:\n    tokenz: {}\n');
    const result = await run(`--config ${file}`);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`global-cp: invalid configuration: apiServer.authn.tokenz (in ${file}) is not a known setting`);
  });

  it('takes settings from --config, with env winning over the file', async () => {
    const file = join(dir.path, 'global.yaml');
    const storePath = join(dir.path, 'from-file.db');
    writeFileSync(file, `store:\n  sqlite:\n    path: ${storePath}\napiServer:\n  https:\n    enabled: false\n  authn:\n    localhostIsAdmin: false\n`);

    let global = await startDaemon('global-cp', {}, { args: ['--config', file] });
    expect(existsSync(storePath)).toBe(true);
    expect(global.ready.httpsPort).toBeUndefined();
    expect((await http('GET', `${global.url}/who-am-i`)).json.name).toBe('mesh-system:anonymous');
    expect(global.output.join('\n')).not.toMatch(/localhostIsAdmin is on/);
    await global.stop();

    global = await startDaemon('global-cp', { MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN: 'true' }, { args: ['--config', file] });
    expect((await http('GET', `${global.url}/who-am-i`)).json.name).toBe('mesh-system:admin');
    expect(global.output.join('\n')).toMatch(/localhostIsAdmin is on/);
  });

  it('answers --version and --help', async () => {
    expect((await run('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await run('--help')).stdout).toMatch(/--config <file>/);
  });
});
