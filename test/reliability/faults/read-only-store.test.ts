import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binaries, stopAll } from '../../support/daemon.js';
import { startPlane, type Plane } from '../support/plane-fixture.js';
import { rawRequest } from '../support/raw-http.js';

/** Whether this machine lets the suite make a read-only bind mount (root, not a locked-down container). */
function bindReadOnly(source: string, target: string): boolean {
  mkdirSync(target, { recursive: true });
  if (spawnSync('mount', ['--bind', source, target], { stdio: 'ignore' }).status !== 0) return false;
  if (spawnSync('mount', ['-o', 'remount,bind,ro', target], { stdio: 'ignore' }).status !== 0) {
    spawnSync('umount', [target], { stdio: 'ignore' });
    return false;
  }
  return true;
}

/**
 * Why not chmod 0444 under a running daemon: SQLite keeps its file descriptors, so a running
 * plane keeps writing (checked by hand: thousands of inserts after chmod succeed). A store that is
 * read-only when the plane opens it is the case an operator meets (a read-only volume); the plane
 * must refuse to start with one clear line, and leave the file exactly as it was.
 */
describe('global started on a read-only store', () => {
  let plane: Plane | undefined;
  let readOnlyDir: string | undefined;

  afterAll(async () => {
    if (readOnlyDir) {
      spawnSync('umount', [readOnlyDir], { stdio: 'ignore' });
      rmSync(readOnlyDir, { recursive: true, force: true });
    }
    await plane?.dispose();
    await stopAll();
  });

  it('refuses to start with one line naming the store, and changes nothing', async (ctx) => {
    plane = await startPlane('global-cp');
    const headers = { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' };
    expect((await rawRequest(`${plane.url}/tokens/user/revocations`, { method: 'POST', headers, body: '{"jti":"kept"}' })).status).toBe(201);
    await plane.daemon.stop();
    const before = readFileSync(plane.storePath);

    readOnlyDir = `${plane.dir.path}-ro`;
    if (!bindReadOnly(plane.dir.path, readOnlyDir)) ctx.skip('cannot make a read-only bind mount here (needs root)');
    const run = spawnSync(process.execPath, [binaries['global-cp']], {
      env: {
        PATH: process.env.PATH ?? '',
        MESHAUTH_STORE_SQLITE_PATH: join(readOnlyDir, 'store.db'),
        MESHAUTH_API_SERVER_HTTP_PORT: '0',
        MESHAUTH_API_SERVER_HTTPS_PORT: '0',
        MESHAUTH_DIAGNOSTICS_SERVER_PORT: '0',
        MESHAUTH_DIAGNOSTICS_SERVER_INTERFACE: '127.0.0.1',
        MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: '0',
        MESHAUTH_API_SERVER_HTTP_INTERFACE: '127.0.0.1',
        MESHAUTH_API_SERVER_HTTPS_INTERFACE: '127.0.0.1',
        MESHAUTH_MULTIZONE_GLOBAL_SYNC_INTERFACE: '127.0.0.1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/store/);
    expect(run.stderr).toMatch(/read-only/);
    expect(run.stderr).toContain(join(readOnlyDir, 'store.db'));
    expect(readFileSync(plane.storePath).equals(before)).toBe(true);
  });
});
