import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { migrations } from './migrations.js';
import { SqliteStore, storeError } from './sqlite-store.js';

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

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = (serial: number) => ({
  family: 'user-token',
  serial,
  publicPem: `public-${serial}`,
  privatePem: `private-${serial}`,
  createdAt: 1_000 + serial,
  origin: 'local' as const,
});

describe('SqliteStore file', () => {
  it('creates the file (and its folder) in WAL mode, readable by its owner only', () => {
    const store = open();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    expect(statSync(join(dir, 'nested')).mode & 0o077).toBe(0);
  });

  it('runs every migration once and records the schema version', () => {
    const store = open();
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['change_log', 'meta', 'revocations', 'secrets', 'signing_keys', 'staged_revocations', 'version_ids']);
    store.putSecret({ mesh: '', name: 'kept', data: Buffer.from('x'), updatedAt: 1 });
    store.close();

    const again = open();
    expect(again.db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(again.getSecret('', 'kept')?.data.toString()).toBe('x');
  });

  it('refuses a store written by a newer schema', () => {
    open().close();
    const raw = new BetterSqlite3(path);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    expect(() => SqliteStore.open(path)).toThrow(/newer than this binary knows/);
  });

  it('keeps its epoch across reopen; a new file gets a new one', () => {
    const first = open();
    const epoch = first.epoch;
    expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
    first.close();
    expect(open().epoch).toBe(epoch);
    path = join(dir, 'other.db');
    expect(open().epoch).not.toBe(epoch);
  });
});

describe('SqliteStore records', () => {
  it('stores, replaces and deletes signing keys per family', () => {
    const store = open();
    store.putKey(key(1));
    store.putKey(key(2));
    store.putKey({ ...key(1), family: 'zone-token' });
    store.putKey({ ...key(2), publicPem: 'replaced', privatePem: null, origin: 'synced' });
    expect(store.listKeys('user-token')).toEqual([key(1), { ...key(2), publicPem: 'replaced', privatePem: null, origin: 'synced' }]);
    expect(store.deleteKey('user-token', 1)).toBe(true);
    expect(store.deleteKey('user-token', 1)).toBe(false);
    expect(store.getKey('zone-token', 1)).toEqual({ ...key(1), family: 'zone-token' });
    expect(() => store.putKey(key(0))).toThrow();
  });

  it('adds revocations once and finds expired ones', () => {
    const store = open();
    expect(store.addRevocation({ family: 'user-token', jti: 'a', revokedAt: 1, expiresAt: 100 })).toBe(true);
    expect(store.addRevocation({ family: 'user-token', jti: 'a', revokedAt: 2, expiresAt: 200 })).toBe(false);
    store.addRevocation({ family: 'user-token', jti: 'b', revokedAt: 1, expiresAt: null });
    store.addRevocation({ family: 'user-token', jti: 'c', revokedAt: 1, expiresAt: 500 });
    expect(store.getRevocation('user-token', 'a')).toEqual({ family: 'user-token', jti: 'a', revokedAt: 1, expiresAt: 100 });
    expect(store.countRevocations('user-token')).toBe(3);
    expect(store.expiredRevocations('user-token', 300, 10)).toEqual(['a']);
    expect([...store.iterateRevocations('user-token')].map((r) => r.jti).sort()).toEqual(['a', 'b', 'c']);
  });

  it('reports whether a secret was created or replaced, and keeps meshes apart', () => {
    const store = open();
    expect(store.putSecret({ mesh: '', name: 's', data: Buffer.from('1'), updatedAt: 1 })).toBe(true);
    expect(store.putSecret({ mesh: '', name: 's', data: Buffer.from('2'), updatedAt: 2 })).toBe(false);
    expect(store.putSecret({ mesh: 'default', name: 's', data: Buffer.from('3'), updatedAt: 3 })).toBe(true);
    expect(store.listSecrets('').map((s) => s.data.toString())).toEqual(['2']);
    expect(store.deleteSecret('default', 's')).toBe(true);
    expect(store.getSecret('default', 's')).toBeUndefined();
  });

  it('rolls a failed transaction back entirely', () => {
    const store = open();
    expect(() =>
      store.transaction(() => {
        store.putSecret({ mesh: '', name: 'half', data: Buffer.from('x'), updatedAt: 1 });
        store.recordChanges([{ entity: 'key', ref: '1', op: 'put' }]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.getSecret('', 'half')).toBeUndefined();
    expect(store.version).toBe(0);
    expect(store.changesSince(0)).toEqual([]);
  });

  it('turns SQLite write failures into a 503 saying nothing changed', () => {
    open().close();
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
});

describe('SqliteStore change log', () => {
  it('gives every transaction one new version shared by all its rows', () => {
    const store = open();
    expect(store.version).toBe(0);
    const v1 = store.transaction(() =>
      store.recordChanges([
        { entity: 'key', ref: '1', op: 'put' },
        { entity: 'revocation', ref: 'j1', op: 'put' },
      ]),
    );
    const v2 = store.transaction(() => store.recordChanges([{ entity: 'key', ref: '1', op: 'delete' }]));
    expect([v1, v2]).toEqual([1, 2]);
    expect(store.version).toBe(2);
    expect(store.changesSince(0)).toEqual([
      { version: 1, entity: 'key', ref: '1', op: 'put' },
      { version: 1, entity: 'revocation', ref: 'j1', op: 'put' },
      { version: 2, entity: 'key', ref: '1', op: 'delete' },
    ]);
    expect(store.changesSince(1)).toEqual([{ version: 2, entity: 'key', ref: '1', op: 'delete' }]);
    expect(store.countChangesSince(0)).toBe(3);
  });

  it('keeps its version across reopen', () => {
    const store = open();
    store.transaction(() => store.recordChanges([{ entity: 'key', ref: '1', op: 'put' }]));
    store.close();
    const again = open();
    expect(again.version).toBe(1);
    expect(again.transaction(() => again.recordChanges([{ entity: 'key', ref: '2', op: 'put' }]))).toBe(2);
  });

  it('prunes whole versions from the oldest and raises the floor', () => {
    const store = open();
    store.transaction(() => store.recordChanges([{ entity: 'revocation', ref: 'a', op: 'put' }, { entity: 'revocation', ref: 'b', op: 'put' }]));
    store.transaction(() => store.recordChanges([{ entity: 'revocation', ref: 'c', op: 'put' }, { entity: 'revocation', ref: 'd', op: 'put' }]));
    store.transaction(() => store.recordChanges([{ entity: 'revocation', ref: 'e', op: 'put' }]));
    expect(store.changeLogFloor).toBe(0);

    store.transaction(() => store.pruneChangeLog(10));
    expect(store.countChangesSince(0)).toBe(5);
    expect(store.changeLogFloor).toBe(0);

    // Keeping 2 rows would split version 2; the whole of version 2 goes with version 1.
    store.transaction(() => store.pruneChangeLog(2));
    expect(store.changesSince(0)).toEqual([{ version: 3, entity: 'revocation', ref: 'e', op: 'put' }]);
    expect(store.changeLogFloor).toBe(2);
    expect(store.version).toBe(3);
    expect(store.transaction(() => store.recordChanges([{ entity: 'key', ref: '1', op: 'put' }]))).toBe(4);
  });
});

describe('SqliteStore version ids', () => {
  const record = (store: SqliteStore, ref: string) => store.transaction(() => store.recordChanges([{ entity: 'revocation', ref, op: 'put' }]));

  it('gives every version its own random id, kept across reopen; version 0 has none', () => {
    const store = open();
    record(store, 'a');
    store.transaction(() => store.recordChanges([]));
    const ids = [store.versionId(1), store.versionId(2)];
    expect(ids).toEqual([expect.stringMatching(/^[0-9a-f]{16}$/), expect.stringMatching(/^[0-9a-f]{16}$/)]);
    expect(ids[0]).not.toBe(ids[1]);
    expect([store.versionId(0), store.versionId(3)]).toEqual([undefined, undefined]);
    store.close();
    const again = open();
    expect([again.versionId(1), again.versionId(2)]).toEqual(ids);
  });

  it('tells a copy of the file that went on with other changes apart: same epoch and version, other id', () => {
    const store = open();
    record(store, 'a');
    store.close();
    const copyPath = join(dir, 'nested', 'backup.db');
    copyFileSync(path, copyPath);

    const live = open();
    record(live, 'only-in-the-live-store');
    path = copyPath;
    const restored = open();
    record(restored, 'only-in-the-restored-copy');

    expect(restored.epoch).toBe(live.epoch);
    expect(restored.version).toBe(live.version);
    expect(restored.versionId(1)).toBe(live.versionId(1));
    expect(restored.versionId(2)).not.toBe(live.versionId(2));
  });

  it("keeps the floor's id when pruning (a zone there still takes a delta) and drops those below", () => {
    const store = open();
    for (const ref of ['a', 'b', 'c', 'd']) record(store, ref);
    const kept = [store.versionId(2), store.versionId(3), store.versionId(4)];
    store.transaction(() => store.pruneChangeLog(2));
    expect(store.changeLogFloor).toBe(2);
    expect(store.versionId(1)).toBeUndefined();
    expect([store.versionId(2), store.versionId(3), store.versionId(4)]).toEqual(kept);
  });

  it('an older store gets an id for its current version when upgraded; earlier versions stay unknown', () => {
    path = join(dir, 'old.db');
    const raw = new BetterSqlite3(path);
    for (const migration of migrations.slice(0, 2)) migration(raw);
    raw.pragma('user_version = 2');
    raw.prepare("INSERT INTO meta (key, value) VALUES ('epoch', 'old-epoch'), ('version', '5')").run();
    raw.close();

    const store = open();
    expect(store.versionId(5)).toMatch(/^[0-9a-f]{16}$/);
    expect(store.versionId(4)).toBeUndefined();
    expect(record(store, 'a')).toBe(6);
    expect(store.versionId(6)).toMatch(/^[0-9a-f]{16}$/);
  });
});
