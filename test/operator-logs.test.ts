/**
 * Logs for people and machines, on real daemons: a listener whose port is taken stops the start
 * with one line naming the setting to change (each listener of each plane); MESHAUTH_LOG_FORMAT=text
 * gives one readable line per entry; `user token issued` names the jti.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { binaries, daemonEnv, nodeArgsOf, startDaemon, stopAll, tempDir } from './support/daemon.js';
import { http } from './support/http.js';

const dir = tempDir('meshauth-logs-');
const servers: Server[] = [];
afterAll(async () => {
  await stopAll();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  dir.remove();
});

/** A port held by something else, on the address the test daemons bind. */
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function runToExit(kind: 'global-cp' | 'zone-cp', env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [...nodeArgsOf(kind), binaries[kind]], { env: daemonEnv(kind, env), timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('a port already in use', () => {
  const zone = { MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' };
  it.each([
    ['global-cp', 'MESHAUTH_API_SERVER_HTTP_PORT'],
    ['global-cp', 'MESHAUTH_API_SERVER_HTTPS_PORT'],
    ['global-cp', 'MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT'],
    ['global-cp', 'MESHAUTH_DIAGNOSTICS_SERVER_PORT'],
    ['zone-cp', 'MESHAUTH_API_SERVER_HTTP_PORT'],
    ['zone-cp', 'MESHAUTH_API_SERVER_HTTPS_PORT'],
    ['zone-cp', 'MESHAUTH_DP_SERVER_PORT'],
    ['zone-cp', 'MESHAUTH_DIAGNOSTICS_SERVER_PORT'],
  ] as const)('%s with %s taken exits 1 with one line naming that setting', async (kind, setting) => {
    const port = await takenPort();
    const result = await runToExit(kind, {
      MESHAUTH_STORE_SQLITE_PATH: join(dir.path, `${kind}-${setting}.db`),
      ...(kind === 'zone-cp' ? zone : {}),
      [setting]: String(port),
    });
    expect(result.code, result.stderr).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${kind}: invalid configuration: port ${port} is in use: set ${setting} \\([\\w.]+\\) to a free port$`));
  });
});

describe('MESHAUTH_LOG_FORMAT=text', () => {
  it('prints every entry as one readable line: time, level, name, message, fields', async () => {
    const child = spawn(process.execPath, [binaries['global-cp']], {
      env: daemonEnv('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'text.db'), MESHAUTH_LOG_FORMAT: 'text' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(`${code} ${signal}`)));
    let status = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line:\n${out}`)), 60_000);
        child.stdout!.on('data', () => out.includes('global-cp ready') && (clearTimeout(timer), resolve()));
        void exited.then(() => reject(new Error(`exited:\n${out}`)));
      });
    } finally {
      child.kill('SIGTERM');
      status = await exited;
    }
    expect(status, out).toBe('0 null');
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(line, 'no JSON line').not.toMatch(/^\{/);
    const ready = lines.find((l) => l.includes('global-cp ready'))!;
    expect(ready).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}global-cp: global-cp ready httpPort=\d+ httpsPort=\d+ syncPort=\d+ diagnosticsPort=\d+ /);
    expect(ready).toMatch(/ adminToken="curl -s localhost:\d+\/global-secrets\/admin-user-token \| jq -r \.data \| base64 -d"$/);
    expect(lines.some((l) => / WARN {2}global-cp: localhostIsAdmin is on/.test(l))).toBe(true);
    expect(out).toContain('global-cp stopping signal=SIGTERM');
  });

  it('refuses another format, naming the setting', async () => {
    const result = await runToExit('global-cp', { MESHAUTH_LOG_FORMAT: 'pretty' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/logFormat \(MESHAUTH_LOG_FORMAT\) must be one of json, text, got "pretty"/);
  });
});

describe('user token issued', () => {
  it('names the jti of the token it logs', async () => {
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'jti.db') });
    const issued = await http('POST', `${global.url}/tokens/user`, { body: { name: 'john', groups: ['team-a'], validFor: '1h' } });
    expect(issued.status).toBe(200);
    const jti = (JSON.parse(Buffer.from(issued.text.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;
    const line = await global.waitForLog((l) => l.msg === 'user token issued');
    expect(line).toMatchObject({ user: 'john', groups: ['team-a'], jti });
    expect(jti).toMatch(/^[\w-]{8,}$/);
  });
});
