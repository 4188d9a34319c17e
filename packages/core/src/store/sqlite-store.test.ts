import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { migrations } from './sqlite-migrations.js';
import { defaults, type MeshAuthConfig } from '../config/defaults.js';
import { openStore } from './open-store.js';
import { SQLITE_PROFILES, SqliteStore, storeError } from './sqlite-store.js';
import type { Store } from './store.js';
import { WalFlusher } from './wal-flusher.js';

/** What only the SQLite store does: the file, its schema upgrades, its error words. The rest: store-contract.test.ts. */
let dir: string;
let path: string;
const opened: SqliteStore[] = [];

function open(): SqliteStore {
  const store = SqliteStore.open(path);
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-store-'));
  path = join(dir, 'nested', 'global.db');
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore file', () => {
  it('creates the file (and its folder) in WAL mode with 16 KiB pages, readable by its owner only', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('page_size', { simple: true })).toBe(16384);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    expect(statSync(join(dir, 'nested')).mode & 0o077).toBe(0);
  });

  it("sizes a new store's pages and its writer's cache for its plane: large for global's bulk imports, small for a zone's stream of deltas", async () => {
    const config = (file: string): MeshAuthConfig => ({ ...defaults, store: { ...defaults.store, sqlite: { path: join(dir, file) } } });
    const global = await openStore(config('global.db'), 'global');
    const zone = await openStore(config('zone.db'), 'zone');
    opened.push(global as SqliteStore, zone as SqliteStore);
    const pragma = (store: Store, name: string) => (store as SqliteStore).db.pragma(name, { simple: true });
    expect([pragma(global, 'page_size'), pragma(global, 'cache_size')]).toEqual([16384, -16000]);
    expect([pragma(zone, 'page_size'), pragma(zone, 'cache_size')]).toEqual([4096, -4000]);
    expect(SQLITE_PROFILES).toEqual({ bulk: { pageBytes: 16384, writerCacheKiB: 16000 }, deltas: { pageBytes: 4096, writerCacheKiB: 4000 } });
    await zone.close();
    // An existing file keeps the page size it was made with, whatever it is opened with; the cache is the profile's.
    const reopened = SqliteStore.open(join(dir, 'zone.db'), { profile: SQLITE_PROFILES.bulk });
    opened.push(reopened);
    expect([pragma(reopened, 'page_size'), pragma(reopened, 'cache_size')]).toEqual([4096, -16000]);
  });

  it('runs every migration once and records the schema version', async () => {
    const store = open();
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['audit_log', 'change_log', 'instances', 'issued_tokens', 'meta', 'revocations', 'secrets', 'signing_keys', 'staged_revocations', 'staged_runs', 'version_ids', 'zone_status']);
    await store.transaction((tx) => tx.putSecret({ mesh: '', name: 'kept', data: Buffer.from('x'), updatedAt: 1 }));
    await store.close();

    const again = open();
    expect(again.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(again.db.pragma('page_size', { simple: true })).toBe(16384);
    expect((await again.read.getSecret('', 'kept'))?.data.toString()).toBe('x');
  });

  it('answers a write only once its log is synced to disk, and names a failed sync as a failed write', async () => {
    const store = open();
    // COMMIT leaves the sync to the store (off the event loop), which waits for it before answering.
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    let finish!: (error?: Error) => void;
    const sync = vi.spyOn(WalFlusher.prototype, 'sync').mockImplementation(() => new Promise<void>((resolve, reject) => (finish = (error) => (error ? reject(error) : resolve()))));
    const hinted = vi.fn();
    store.onChangeHint(hinted);
    let answered = false;
    const write = store.transaction((tx) => tx.recordChanges([{ family: 'user-token', entity: 'revocation', ref: 'j1', op: 'put', expiresAt: null }], 1)).then((v) => ((answered = true), v));
    await vi.waitFor(() => expect(sync).toHaveBeenCalledTimes(1));
    // Committed (another reader of the file sees it), but neither answered nor hinted to memory yet.
    expect(await store.read.version()).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(hinted).not.toHaveBeenCalled();
    finish();
    expect(await write).toBe(1);
    expect(hinted).toHaveBeenCalledTimes(1);

    const failing = store.transaction((tx) => tx.setMeta('k', 'v'));
    await vi.waitFor(() => expect(sync).toHaveBeenCalledTimes(2));
    finish(new Error('EIO: i/o error, fdatasync'));
    await expect(failing).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', message: expect.stringContaining('could not be synced to disk (EIO: i/o error, fdatasync)') });
    // The change is in the file all the same: memory is told of it.
    expect(await store.read.getMeta('k')).toBe('v');
    sync.mockRestore();
  });

  it('refuses a store written by a newer schema', async () => {
    await open().close();
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    expect(() => SqliteStore.open(path)).toThrow(/newer than this binary knows/);
  });

  it('turns SQLite write failures into a 503 saying nothing changed', async () => {
    await open().close();
    const raw = new BetterSqlite3(path, { readonly: true });
    let failure: unknown;
    try {
      raw.prepare("INSERT INTO meta (key, value) VALUES ('x', 'y')").run();
    } catch (error) {
      failure = storeError(error);
    } finally {
      raw.close();
    }
    expect(failure).toBeInstanceOf(MeshAuthError);
    expect((failure as MeshAuthError).code).toBe('ERR_STORE_UNAVAILABLE');
    expect((failure as MeshAuthError).message).toBe('cannot write to the store: the store file is read-only; nothing was changed');
  });

  it('an older store keeps its change log (as user-token rows, with the revocations\' expiry) and its current version id when upgraded', async () => {
    path = join(dir, 'old.db');
    const raw = new BetterSqlite3(path);
    for (const migration of migrations.slice(0, 3)) migration(raw);
    raw.pragma('user_version = 3');
    raw.prepare("INSERT INTO meta (key, value) VALUES ('epoch', 'old-epoch'), ('version', '5')").run();
    raw.prepare("INSERT INTO version_ids (version, id) VALUES (5, 'aaaaaaaaaaaaaaaa')").run();
    raw.prepare("INSERT INTO revocations (family, jti, revoked_at, expires_at) VALUES ('user-token', 'j1', 1, 99)").run();
    raw.prepare("INSERT INTO change_log (seq, version, entity, ref, op) VALUES (1, 5, 'revocation', 'j1', 'put'), (2, 5, 'key', '1', 'put')").run();
    raw.close();

    const store = open();
    expect(store.epoch).toBe('old-epoch');
    // Created before the store chose 16 KiB pages: it keeps its own.
    expect(store.db.pragma('page_size', { simple: true })).toBe(4096);
    expect((await store.read.versionInfo(5))?.id).toBe('aaaaaaaaaaaaaaaa');
    expect(await store.read.changesAfter(4, 0, 10)).toEqual([
      { seq: 1, version: 5, family: 'user-token', entity: 'revocation', ref: 'j1', op: 'put', expiresAt: 99 },
      { seq: 2, version: 5, family: 'user-token', entity: 'key', ref: '1', op: 'put', expiresAt: null },
    ]);
    expect(await store.transaction((tx) => tx.recordChanges([{ family: 'user-token', entity: 'revocation', ref: 'j2', op: 'put', expiresAt: null }], 7))).toBe(6);
  });

  it('keeps the change log and the issued tokens when their checks are rewritten, and the checks still refuse what they refused', async () => {
    path = join(dir, 'before-or-checks.db');
    const raw = new BetterSqlite3(path);
    const before = migrations.length - 1;
    for (const migration of migrations.slice(0, before)) migration(raw);
    raw.pragma(`user_version = ${before}`);
    raw.prepare("INSERT INTO change_log (seq, version, family, entity, ref, op, expires_at) VALUES (7, 3, 'user-token', 'family', '', 'reload', NULL), (8, 4, 'zone-token', 'revocation', 'j', 'delete', 5)").run();
    raw.prepare("INSERT INTO issued_tokens VALUES ('user-token', 'j1', 'user', 'jane', '[\"a\"]', '', '', 1, 2, 'admin', 'i1')").run();
    raw.close();

    const store = open();
    expect(await store.read.changesAfter(0, 0, 10)).toEqual([
      { seq: 7, version: 3, family: 'user-token', entity: 'family', ref: '', op: 'reload', expiresAt: null },
      { seq: 8, version: 4, family: 'zone-token', entity: 'revocation', ref: 'j', op: 'delete', expiresAt: 5 },
    ]);
    expect(await store.read.listIssuedTokens({ family: 'user-token', limit: 10 })).toMatchObject([{ jti: 'j1', kind: 'user', name: 'jane', groups: ['a'] }]);
    const indexes = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('change_log', 'issued_tokens') AND sql IS NOT NULL ORDER BY name").pluck().all();
    expect(indexes).toEqual(['change_log_by_version', 'issued_tokens_by_expiry', 'issued_tokens_by_name']);
    const insertChange = (entity: string, op: string) => () => store.db.prepare("INSERT INTO change_log (version, family, entity, ref, op) VALUES (9, 'f', ?, 'r', ?)").run(entity, op);
    expect(insertChange('keys', 'put')).toThrow(/CHECK constraint failed/);
    expect(insertChange('key', 'upsert')).toThrow(/CHECK constraint failed/);
    expect(insertChange('key', 'put')).not.toThrow();
    const insertIssued = (kind: string) => () => store.db.prepare("INSERT INTO issued_tokens VALUES ('f', ?, ?, 'n', '[]', '', '', 1, 2, 'b', 'i')").run(`j-${kind}`, kind);
    expect(insertIssued('admin')).toThrow(/CHECK constraint failed/);
    expect(insertIssued('dataplane')).not.toThrow();
  });
});

describe('SqliteStore bulk reads', () => {
  it('counts revocations range by range, each family apart: a whole range, one more, and many ranges', async () => {
    const store = open();
    const add = (family: string, from: number, to: number) =>
      store.transaction((tx) => tx.addRevocations(family, Array.from({ length: to - from }, (_, i) => ({ jti: `j-${String(from + i).padStart(6, '0')}`, revokedAt: 1, expiresAt: null }))));
    await add('zone-token', 0, 3);
    await add('user-token', 0, 50_000);
    expect(await store.read.countRevocations('user-token')).toBe(50_000);
    await add('user-token', 50_000, 50_001);
    expect(await store.read.countRevocations('user-token')).toBe(50_001);
    await add('user-token', 50_001, 120_000);
    expect(await store.read.countRevocations('user-token')).toBe(120_000);
    expect(await store.transaction((tx) => tx.countRevocations('user-token'))).toBe(120_000);
    expect(await store.read.countRevocations('zone-token')).toBe(3);
    expect(await store.read.countRevocations('dataplane-token/default')).toBe(0);
  });
});
