import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, type Daemon } from '../../support/daemon.js';
import { readAdminToken } from '../../support/http.js';
import { recordLost } from '../support/ledger.js';
import { rawRequest } from '../support/raw-http.js';
import { openStoreReadOnly, readStore, truncateWal } from '../support/store-snapshot.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../support/tmpfs.js';

/**
 * The store on an 8 MiB tmpfs, then the tmpfs filled to the last byte: writes that need space
 * must fail with a clear 503 and change nothing, reads must keep working, and once space is back
 * everything acknowledged before, during and after is there, also across a restart.
 */
describe.skipIf(!canMountTmpfs())('disk full under a running global', () => {
  let disk: Tmpfs | undefined;
  let global: Daemon | undefined;

  afterAll(async () => {
    await global?.stop();
    await stopAll();
    disk?.unmount();
  });

  it('writes fail with 503 ERR_STORE_UNAVAILABLE, reads keep working, nothing stored is lost', async () => {
    disk = mountTmpfs('8m')!;
    const storePath = join(disk.path, 'global.db');
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath });
    const adminToken = await readAdminToken(global.url);
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const put = (name: string, bytes: number) =>
      rawRequest(`${global!.url}/global-secrets/${name}`, { method: 'PUT', headers, body: JSON.stringify({ type: 'GlobalSecret', data: Buffer.alloc(bytes, name).toString('base64') }) });
    const revoke = (jti: string) => rawRequest(`${global!.url}/tokens/user/revocations`, { method: 'POST', headers, body: JSON.stringify({ jti }) });

    const acked = { secrets: [] as string[], revocations: [] as string[] };
    const refusedRevocations: string[] = [];
    for (let i = 0; i < 20; i++) {
      expect((await put(`before-${i}`, 1024)).status).toBe(201);
      acked.secrets.push(`before-${i}`);
      expect((await revoke(`before-${i}`)).status).toBe(201);
      acked.revocations.push(`before-${i}`);
    }
    const beforeFull = readStore(storePath);

    // Whether the big write below fits must not depend on the WAL's history: SQLite keeps the WAL
    // file at its largest and writes new frames over old ones, into space the file already holds
    // (CI runs found room there twice). So the WAL is truncated to nothing first, and a reader
    // holding a snapshot keeps SQLite from starting it over: every write must then grow the file.
    expect(truncateWal(storePath)).toEqual({ busy: 0, log: 0, checkpointed: 0 });
    expect(statSync(`${storePath}-wal`).size).toBe(0);
    const pinned = openStoreReadOnly(storePath);
    pinned.exec('BEGIN');
    pinned.prepare('SELECT count(*) FROM secrets').get();
    disk.fill();
    // A write that needs fresh pages cannot reuse WAL frames: it must fail, clearly, and change nothing.
    const big = await put('while-full', 512 * 1024);
    expect(big.status, big.text).toBe(503);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(big.json.detail).toMatch(/disk is full/);
    expect((await rawRequest(`${global.url}/global-secrets/while-full`, { headers })).status).toBe(404);
    // Small writes may still fit in reused WAL frames; whatever is acknowledged must survive.
    for (let i = 0; i < 20; i++) {
      const res = await revoke(`while-full-${i}`);
      expect([201, 503], res.text).toContain(res.status);
      if (res.status === 201) acked.revocations.push(`while-full-${i}`);
      else {
        expect(res.json.detail).toMatch(/disk is full/);
        refusedRevocations.push(`while-full-${i}`);
      }
    }
    // A refused write is not half-applied in memory either.
    const listed = await rawRequest(`${global.url}/global-secrets/user-token-revocations`, { headers });
    const enforced = new Set(Buffer.from(listed.json.data, 'base64').toString('utf8').split(','));
    expect(refusedRevocations.filter((jti) => enforced.has(jti))).toEqual([]);
    // Reads keep working and still see every acknowledged write.
    expect((await rawRequest(`${global.url}/global-secrets/before-7`, { headers })).status).toBe(200);
    const who = await rawRequest(`${global.url}/who-am-i`, { headers });
    expect(who.json.name).toBe('mesh-system:admin');
    expect(global.process.exitCode).toBeNull();

    disk.free();
    pinned.exec('COMMIT');
    pinned.close();
    expect((await put('after-free', 512 * 1024)).status).toBe(201);
    acked.secrets.push('after-free');

    await global.stop();
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath });
    const after = readStore(storePath);
    const secrets = new Set(after.secrets.map((s) => s.name));
    const revocations = new Set(after.revocations.map((r) => r.jti));
    const missing = [...acked.secrets.filter((n) => !secrets.has(n)), ...acked.revocations.filter((j) => !revocations.has(j))];
    recordLost(missing.length, `acknowledged writes missing after disk full: ${missing.slice(0, 5).join(', ')}`);
    expect(missing).toEqual([]);
    expect(secrets.has('while-full')).toBe(false);
    expect(after.signingKeys).toEqual(beforeFull.signingKeys);
  });
});
