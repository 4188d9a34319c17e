import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../../../scripts/lib/embedded-postgres.mjs';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { ChangeHint, IssuedTokenRow, NewAuditRow, NewChange, Store, ZoneStatusRow } from './store.js';
import { writeUuid } from '../tokens/uuid-jti.js';

/**
 * One contract, two stores: everything above the seam relies on these behaviours, so both
 * implementations must show them, against a real SQLite file and a real PostgreSQL server.
 */
interface StoreKind {
  name: 'sqlite' | 'postgres';
  /** A fresh, empty store; `again` opens another handle on the same one (a restart, or a replica). */
  fresh(): Promise<{ store: Store; again(): Promise<Store> }>;
  /** Several processes may share it. */
  shared: boolean;
}

let postgres: EmbeddedPostgresServer;
let dir: string;
let databases = 0;
const opened: Store[] = [];
const track = <S extends Store>(store: S): S => (opened.push(store), store);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-contract-'));
  postgres = await startEmbeddedPostgres();
}, 120_000);

afterAll(async () => {
  for (const store of opened.splice(0)) await store.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const kinds: StoreKind[] = [
  {
    name: 'sqlite',
    shared: false,
    async fresh() {
      const path = join(dir, `store-${++databases}.db`);
      return { store: track(SqliteStore.open(path)), again: async () => track(SqliteStore.open(path)) };
    },
  },
  {
    name: 'postgres',
    shared: true,
    async fresh() {
      const settings = await postgres.createDatabase(`contract_${++databases}`);
      return { store: track(await PostgresStore.open(settings)), again: async () => track(await PostgresStore.open(settings)) };
    },
  },
];

const revocation = (ref: string, expiresAt: number | null = null): NewChange => ({ family: 'user-token', entity: 'revocation', ref, op: 'put', expiresAt });
const key = (serial: number) => ({ family: 'user-token', serial, publicPem: `public-${serial}`, privatePem: `private-${serial}`, createdAt: 1_000 + serial, origin: 'local' as const });
const zoneRow = (zone: string, instance: string, connectedAt: number, connected = true): ZoneStatusRow => ({
  zone,
  globalInstance: instance,
  connected,
  mode: 'public',
  ackedVersion: 3,
  lastSyncLatencyMs: 4,
  lastAckAt: 5,
  lastError: null,
  lastErrorAt: null,
  connectedAt,
  disconnectedAt: null,
  softwareVersion: '0.1.0',
});

describe.each(kinds)('$name store', (kind) => {
  it('keeps its epoch across reopen; a new store gets a new one', async () => {
    const { store, again } = await kind.fresh();
    expect(store.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect((await again()).epoch).toBe(store.epoch);
    expect((await kind.fresh()).store.epoch).not.toBe(store.epoch);
  });

  it('stores, replaces and deletes signing keys per family', async () => {
    const { store } = await kind.fresh();
    await store.transaction(async (tx) => {
      await tx.putKey(key(2));
      await tx.putKey(key(1));
      await tx.putKey({ ...key(1), family: 'dataplane-token/default' });
    });
    expect((await store.read.listKeys('user-token')).map((k) => k.serial)).toEqual([1, 2]);
    expect(await store.read.getKey('user-token', 2)).toEqual(key(2));
    expect(await store.read.keyFamilies('dataplane-token/')).toEqual(['dataplane-token/default']);
    await store.transaction((tx) => tx.putKey({ ...key(2), privatePem: null, origin: 'synced' }));
    expect(await store.read.getKey('user-token', 2)).toMatchObject({ privatePem: null, origin: 'synced' });
    expect(await store.transaction((tx) => tx.deleteKeys('user-token', [2, 7]))).toEqual([2]);
    await store.transaction((tx) => tx.deleteAllKeys('dataplane-token/default'));
    expect(await store.read.keyFamilies('dataplane-token/')).toEqual([]);
  });

  it('adds revocations once, deletes what exists, pages through many, and finds expired ones', async () => {
    const { store } = await kind.fresh();
    const rows = Array.from({ length: 25_000 }, (_, i) => ({ jti: `jti-${String(i).padStart(5, '0')}`, revokedAt: 1, expiresAt: i < 3 ? 100 : null }));
    expect(await store.transaction((tx) => tx.addRevocations('user-token', rows))).toHaveLength(25_000);
    expect(await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: 'jti-00001', revokedAt: 2, expiresAt: null }, { jti: 'new', revokedAt: 2, expiresAt: null }]))).toEqual(['new']);
    expect(await store.read.countRevocations('user-token')).toBe(25_001);
    expect((await store.read.recentRevocations('user-token', 2)).map((r) => r.jti)).toEqual(['new', 'jti-24999']);
    expect(await store.read.recentRevocations('zone-token', 5)).toEqual([]);
    // Both page readers hand over every revocation once, in jti order, in more than one page.
    const pages: number[] = [];
    const seen: string[] = [];
    await store.read.forEachRevocationPage('user-token', (page) => {
      pages.push(page.length);
      for (const r of page) seen.push(r.jti);
      if (page[0]!.jti === 'jti-00000') expect(page.slice(0, 4)).toEqual([{ jti: 'jti-00000', expiresAt: 100 }, { jti: 'jti-00001', expiresAt: 100 }, { jti: 'jti-00002', expiresAt: 100 }, { jti: 'jti-00003', expiresAt: null }]);
    });
    expect(pages.length).toBeGreaterThan(1);
    expect(seen).toEqual([...rows.map((r) => r.jti), 'new']);
    const jtiPages: string[][] = [];
    await store.read.forEachRevokedJtiPage('user-token', (page) => void jtiPages.push(page));
    expect(jtiPages.length).toBeGreaterThan(1);
    expect(jtiPages.flat()).toEqual(seen);
    expect((await store.read.expiredRevocations('user-token', 101, 10)).sort()).toEqual(['jti-00000', 'jti-00001', 'jti-00002']);
    expect(await store.read.expiredRevocations('user-token', 100, 10)).toEqual([]);
    expect(await store.transaction((tx) => tx.deleteRevocations('user-token', ['new', 'absent', 'jti-00000']))).toEqual(['new', 'jti-00000']);
    expect(await store.read.getRevocation('user-token', 'jti-00001')).toEqual({ family: 'user-token', jti: 'jti-00001', revokedAt: 1, expiresAt: 100 });
    expect((await store.transaction((tx) => tx.revokedJtis('user-token'))).size).toBe(24_999);
  });

  it('sets several meta keys in one call, a key given twice taking its last value, beside keys it leaves alone', async () => {
    const { store, again } = await kind.fresh();
    await store.transaction((tx) => tx.setMeta('kept', 'k'));
    await store.transaction((tx) => tx.setMetas([['a', '1'], ['b', '2']]));
    await store.transaction((tx) => tx.setMetas([['b', '3'], ['c', '4'], ['b', '5']]));
    await store.transaction((tx) => tx.setMetas([]));
    const other = await again();
    for (const reader of [store, other]) {
      expect(await Promise.all(['kept', 'a', 'b', 'c', 'd'].map((k) => reader.read.getMeta(k)))).toEqual(['k', '1', '5', '4', undefined]);
    }
  });

  it('reports whether a secret was created or replaced, and keeps meshes apart', async () => {
    const { store } = await kind.fresh();
    expect(await store.transaction((tx) => tx.putSecret({ mesh: '', name: 'a', data: Buffer.from([0, 255]), updatedAt: 1 }))).toBe(true);
    expect(await store.transaction((tx) => tx.putSecret({ mesh: '', name: 'a', data: Buffer.from('two'), updatedAt: 2 }))).toBe(false);
    expect(await store.transaction((tx) => tx.putSecret({ mesh: 'm', name: 'a', data: Buffer.from('m'), updatedAt: 3 }))).toBe(true);
    expect((await store.read.getSecret('', 'a'))?.data.toString()).toBe('two');
    expect((await store.read.listSecrets('m')).map((s) => s.data.toString())).toEqual(['m']);
    expect(await store.transaction((tx) => tx.deleteSecret('', 'a'))).toBe(true);
    expect(await store.transaction((tx) => tx.deleteSecret('', 'a'))).toBe(false);
  });

  it('rolls a failed transaction back entirely: no row, no version', async () => {
    const { store } = await kind.fresh();
    await expect(
      store.transaction(async (tx) => {
        await tx.putSecret({ mesh: '', name: 'half', data: Buffer.from('x'), updatedAt: 1 });
        await tx.recordChanges([revocation('half')], 1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.read.getSecret('', 'half')).toBeUndefined();
    expect(await store.read.version()).toBe(0);
    expect(await store.read.changesAfter(0, 0, 10)).toEqual([]);
    // And the store still takes writes.
    expect(await store.transaction((tx) => tx.recordChanges([revocation('next')], 1))).toBe(1);
  });

  it('reads outside a transaction see committed state only', async () => {
    const { store } = await kind.fresh();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const writing = store.transaction(async (tx) => {
      await tx.putSecret({ mesh: '', name: 'pending', data: Buffer.from('x'), updatedAt: 1 });
      written();
      await held;
    });
    await wrote;
    expect(await store.read.getSecret('', 'pending')).toBeUndefined();
    release();
    await writing;
    expect((await store.read.getSecret('', 'pending'))?.data.toString()).toBe('x');
  });

  it('gives every transaction the next version, shared by its rows in order, with a random id and its commit time', async () => {
    const { store, again } = await kind.fresh();
    expect(await store.transaction((tx) => tx.recordChanges([revocation('a', 9), revocation('b')], 111))).toBe(1);
    expect(await store.transaction((tx) => tx.recordChanges([{ family: 'zone-token', entity: 'key', ref: '1', op: 'delete', expiresAt: null }], 222))).toBe(2);
    const rows = await store.read.changesAfter(0, 0, 10);
    expect(rows.map((r) => [r.version, r.family, r.ref, r.op, r.expiresAt])).toEqual([
      [1, 'user-token', 'a', 'put', 9],
      [1, 'user-token', 'b', 'put', null],
      [2, 'zone-token', '1', 'delete', null],
    ]);
    // A cursor inside a version goes on from there.
    expect((await store.read.changesAfter(rows[0]!.version, rows[0]!.seq, 10)).map((r) => r.ref)).toEqual(['b', '1']);
    expect((await store.read.changesAfter(1, Number.MAX_SAFE_INTEGER, 10)).map((r) => r.ref)).toEqual(['1']);
    const [one, two] = await store.read.versionsBetween(0, 2);
    expect(one).toMatchObject({ version: 1, committedAt: 111 });
    expect(one!.id).toMatch(/^[0-9a-f]{16}$/);
    expect(two!.id).not.toBe(one!.id);
    expect(await store.read.versionInfo(0)).toBeUndefined();
    expect(await store.read.countChangesSince(0)).toBe(3);
    const reopened = await again();
    expect(await reopened.read.version()).toBe(2);
    expect((await reopened.read.versionInfo(2))?.id).toBe(two!.id);
  });

  it('prunes whole versions from the oldest, raises the floor and keeps the floor\'s id', async () => {
    const { store } = await kind.fresh();
    for (const jti of ['a', 'b', 'c', 'd']) await store.transaction((tx) => tx.recordChanges([revocation(jti), revocation(`${jti}2`)], 1));
    await store.transaction((tx) => tx.pruneChangeLog(5));
    expect(await store.read.changeLogFloor()).toBe(2);
    expect((await store.read.changesAfter(0, 0, 100)).map((r) => r.version)).toEqual([3, 3, 4, 4]);
    expect(await store.read.versionInfo(1)).toBeUndefined();
    expect(await store.read.versionInfo(2)).toBeDefined();
  });

  it('adds packed UUID jtis, counting only those not held, and keeps the record of one held', async () => {
    const { store } = await kind.fresh();
    const jtis = Array.from({ length: 4_500 }, () => randomUUID()).sort();
    const packed = new Uint8Array(jtis.length * 16);
    jtis.forEach((jti, i) => writeUuid(jti, packed, i * 16));
    await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: jtis[7]!, revokedAt: 1, expiresAt: 99 }]));
    expect(await store.transaction((tx) => tx.addPackedRevocationsCounting('user-token', packed, 5))).toBe(jtis.length - 1);
    expect(await store.transaction((tx) => tx.addPackedRevocationsCounting('user-token', packed, 6))).toBe(0);
    expect(await store.transaction((tx) => tx.addPackedRevocationsCounting('user-token', new Uint8Array(0), 6))).toBe(0);
    expect(await store.transaction((tx) => tx.revokedJtis('user-token'))).toEqual(new Set(jtis));
    expect(await store.transaction((tx) => tx.revokedJtis('zone-token'))).toEqual(new Set());
    expect(await store.read.getRevocation('user-token', jtis[7]!)).toMatchObject({ revokedAt: 1, expiresAt: 99 });
    expect(await store.read.getRevocation('user-token', jtis[4_499]!)).toMatchObject({ revokedAt: 5, expiresAt: null });
  });

  it('keeps any jti exactly as written, alone or in bulk, with or without an expiry', async () => {
    const { store } = await kind.fresh();
    // Characters JSON escapes, others it does not (non-ASCII, astral), and a plain one beside them.
    const odd = ['quote"d', 'back\\slash', 'new\nline', 'tab\tbell\u0007', 'caf\u00e9', 'emoji \u{1F600}', '[1,2]', 'null', 'plain'];
    const bulk = Array.from({ length: 4_500 }, (_, i) => `bulk-${i}-${odd[i % odd.length]}`);
    const rows = (jtis: string[], expiresAt: number | null) => jtis.map((jti) => ({ jti, revokedAt: 3, expiresAt }));
    expect(await store.transaction((tx) => tx.addRevocations('user-token', rows(odd, null)))).toEqual(odd);
    expect(await store.transaction((tx) => tx.addRevocationsCounting('user-token', [...rows(bulk, 9), ...rows(odd, 9)]))).toBe(bulk.length);
    expect(await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: 'mixed-1', revokedAt: 4, expiresAt: null }, { jti: 'mixed-2', revokedAt: 5, expiresAt: 6 }]))).toEqual(['mixed-1', 'mixed-2']);
    expect(await store.transaction((tx) => tx.addRevocationsCounting('user-token', []))).toBe(0);
    const held = await store.transaction((tx) => tx.revokedJtis('user-token'));
    expect(held).toEqual(new Set([...odd, ...bulk, 'mixed-1', 'mixed-2']));
    expect(await store.read.getRevocation('user-token', odd[0]!)).toMatchObject({ revokedAt: 3, expiresAt: null });
    expect(await store.read.getRevocation('user-token', bulk[4_499]!)).toMatchObject({ revokedAt: 3, expiresAt: 9 });
    expect(await store.read.getRevocation('user-token', 'mixed-2')).toMatchObject({ revokedAt: 5, expiresAt: 6 });
  });

  it('moves staged revocations into a family in one statement pair', async () => {
    const { store } = await kind.fresh();
    await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: 'old', revokedAt: 1, expiresAt: null }]));
    // The last operation on a jti wins, across runs of puts without expiry and other rows.
    await store.transaction((tx) =>
      tx.stageRevocations([
        { jti: 'old', op: 'delete', expiresAt: null },
        { jti: 'new', op: 'put', expiresAt: 5 },
        { jti: 'twice', op: 'put', expiresAt: null },
        { jti: 'twice', op: 'delete', expiresAt: null },
        { jti: 'back', op: 'delete', expiresAt: null },
        { jti: 'back', op: 'put', expiresAt: null },
        { jti: 'quote"d', op: 'put', expiresAt: null },
      ]),
    );
    await store.transaction(async (tx) => {
      await tx.mergeStagedRevocations('user-token', 7);
      await tx.clearStagedRevocations();
    });
    expect((await store.transaction((tx) => tx.revokedJtis('user-token')))).toEqual(new Set(['new', 'back', 'quote"d']));
    expect(await store.read.getRevocation('user-token', 'new')).toMatchObject({ revokedAt: 7, expiresAt: 5 });
  });

  it('merges what several calls staged in the order staged, runs longer than a slice included', async () => {
    const { store } = await kind.fresh();
    const many = Array.from({ length: 2_500 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: 'held', revokedAt: 1, expiresAt: 2 }]));
    await store.transaction(async (tx) => {
      await tx.clearStagedRevocations();
      await tx.stageRevocations([...many.map((jti) => ({ jti, op: 'put' as const, expiresAt: null })), { jti: 'flip', op: 'put', expiresAt: null }]);
    });
    await store.transaction((tx) => tx.stageRevocations([{ jti: 'flip', op: 'delete', expiresAt: null }, ...many.slice(0, 1_200).map((jti) => ({ jti, op: 'delete' as const, expiresAt: null }))]));
    await store.transaction((tx) => tx.stageRevocations([{ jti: 'flip', op: 'put', expiresAt: 8 }, { jti: 'held', op: 'put', expiresAt: 9 }, { jti: many[0]!, op: 'put', expiresAt: null }]));
    await store.transaction((tx) => tx.mergeStagedRevocations('user-token', 7));
    const held = await store.transaction((tx) => tx.revokedJtis('user-token'));
    expect([...held].sort()).toEqual(['held', 'flip', many[0]!, ...many.slice(1_200)].sort());
    // A put of a jti already held keeps its record; a new one takes the merge's time and its own expiry.
    expect(await store.read.getRevocation('user-token', 'held')).toMatchObject({ revokedAt: 1, expiresAt: 2 });
    expect(await store.read.getRevocation('user-token', 'flip')).toMatchObject({ revokedAt: 7, expiresAt: 8 });
  });

  it('stages packed UUID puts as staging their strings would, between and across other staged rows', async () => {
    const { store } = await kind.fresh();
    // More than one statement's worth (SQLite 2,000 rows, PostgreSQL 10,000), a repeat among them.
    const uuids = Array.from({ length: 10_500 }, () => randomUUID());
    uuids.push(uuids[0]!);
    const packed = new Uint8Array(uuids.length * 16);
    uuids.forEach((jti, i) => writeUuid(jti, packed, i * 16));
    const [deletedFirst, putAgain, deletedAfter] = [uuids[1]!, uuids[2]!, uuids[3]!];
    await store.transaction((tx) => tx.addRevocations('user-token', [{ jti: uuids[4]!, revokedAt: 1, expiresAt: 2 }]));
    await store.transaction(async (tx) => {
      await tx.clearStagedRevocations();
      await tx.stageRevocations([{ jti: deletedFirst, op: 'delete', expiresAt: null }, { jti: putAgain, op: 'delete', expiresAt: null }]);
      await tx.stagePackedPuts(packed);
      await tx.stagePackedPuts(new Uint8Array(0));
      await tx.stageRevocations([{ jti: deletedAfter, op: 'delete', expiresAt: null }, { jti: 'other', op: 'put', expiresAt: 9 }]);
    });
    await store.transaction((tx) => tx.mergeStagedRevocations('user-token', 7));
    const held = await store.transaction((tx) => tx.revokedJtis('user-token'));
    expect(held).toEqual(new Set([...uuids.filter((jti) => jti !== deletedAfter), 'other']));
    expect(await store.read.getRevocation('user-token', putAgain)).toMatchObject({ revokedAt: 7, expiresAt: null });
    // Already held: a put keeps its record.
    expect(await store.read.getRevocation('user-token', uuids[4]!)).toMatchObject({ revokedAt: 1, expiresAt: 2 });
  });

  it('keeps zone status where the newest stream wins, and which instances are alive', async () => {
    const { store } = await kind.fresh();
    await store.upsertZoneStatus([zoneRow('zone-1', 'replica-a', 100), zoneRow('zone-2', 'replica-a', 100)]);
    // zone-1 moved to replica-b; replica-a's late write of its old stream must not undo that.
    await store.upsertZoneStatus([zoneRow('zone-1', 'replica-b', 200)]);
    await store.upsertZoneStatus([zoneRow('zone-1', 'replica-a', 100, false)]);
    const rows = await store.listZoneStatus();
    expect(rows.map((r) => [r.zone, r.globalInstance, r.connected])).toEqual([['zone-1', 'replica-b', true], ['zone-2', 'replica-a', true]]);
    expect(rows[1]).toEqual(zoneRow('zone-2', 'replica-a', 100));
    await store.heartbeatInstance({ instance: 'replica-a', plane: 'global', startedAt: 1, lastSeenAt: 10 }, 0);
    const alive = await store.heartbeatInstance({ instance: 'replica-b', plane: 'global', startedAt: 1, lastSeenAt: 50 }, 20);
    expect(alive.map((i) => i.instance)).toEqual(['replica-b']);
  });

  it('serializes writers: concurrent transactions that read the version and write the next never collide', async () => {
    const { store, again } = await kind.fresh();
    const writers = kind.shared ? [store, await again(), await again()] : [store];
    const versions = await Promise.all(
      Array.from({ length: 12 }, (_, i) => writers[i % writers.length]!.transaction((tx) => tx.recordChanges([revocation(`w${i}`)], i))),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await store.read.countChangesSince(0)).toBe(12);
  });

  it('runs exclusive sections one at a time across handles', async () => {
    const { store, again } = await kind.fresh();
    const other = kind.shared ? await again() : store;
    const trace: string[] = [];
    const section = (who: string) => async () => {
      trace.push(`${who} in`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      trace.push(`${who} out`);
    };
    await Promise.all([store.exclusive('bootstrap', section('a')), other.exclusive('bootstrap', section('b'))]);
    expect([trace.slice(0, 2), trace.slice(2)].every(([i, o]) => i!.replace(' in', '') === o!.replace(' out', ''))).toBe(true);
  });

  it('hints at a commit that grew the change log, on every handle of the store, with what it wrote to the committing one', async () => {
    const { store, again } = await kind.fresh();
    const listener = kind.shared ? await again() : store;
    const hints: ChangeHint[] = [];
    const own: ChangeHint[] = [];
    listener.onChangeHint((hint) => hints.push(hint));
    if (listener !== store) store.onChangeHint((hint) => own.push(hint));
    const before = hints.length;
    await store.transaction((tx) => tx.putSecret({ mesh: '', name: 'no-log', data: Buffer.from('x'), updatedAt: 1 }));
    const version = await store.transaction((tx) => tx.recordChanges([revocation('hinted')], 1));
    const [info] = await store.read.versionsBetween(version - 1, version);
    const committed = { committed: { ...info!, changes: [revocation('hinted')] } };
    if (listener === store) {
      expect(hints.slice(before)).toEqual([committed]);
    } else {
      expect(own).toContainEqual(committed);
      // Another replica hears the version announced.
      await expect.poll(() => hints.slice(before), { timeout: 5_000 }).toContainEqual({ version });
    }
  });
});

const issued = (jti: string, name: string, groups: string[], issuedAt: number, expiresAt: number): IssuedTokenRow => ({
  family: 'user-token', jti, kind: 'user', name, groups, zone: '', mesh: '', issuedAt, expiresAt, issuedBy: 'localhost admin', instance: 'i-1',
});
const entry = (at: number, actor: string, action: string): NewAuditRow => ({
  at, actor, actorGroups: ['g'], action, target: 't', result: 'ok', plane: 'global', instance: 'i-1', requestId: `req-${at}`,
});

describe.each(kinds)('$name store: issued-token records and the audit log', (kind) => {
  it('finds issued tokens by name, by group and unexpired, newest first, and prunes the expired', async () => {
    const { store } = await kind.fresh();
    await store.transaction(async (tx) => {
      await tx.recordIssuedToken(issued('a', 'john', ['team-a', 'ops'], 100, 1_000));
      await tx.recordIssuedToken(issued('b', 'john', [], 200, 5_000));
      await tx.recordIssuedToken(issued('c', 'jane', ['ops'], 300, 5_000));
      await tx.recordIssuedToken({ ...issued('d', 'john', [], 400, 5_000), family: 'zone-token', kind: 'zone', name: '', zone: 'east' });
    });
    const jtis = async (q: Partial<Parameters<Store['read']['listIssuedTokens']>[0]>) =>
      (await store.read.listIssuedTokens({ family: 'user-token', limit: 100, ...q })).map((r) => r.jti);
    expect(await jtis({})).toEqual(['c', 'b', 'a']);
    expect(await jtis({ name: 'john' })).toEqual(['b', 'a']);
    expect(await jtis({ group: 'ops' })).toEqual(['c', 'a']);
    expect(await jtis({ name: 'john', group: 'ops' })).toEqual(['a']);
    expect(await jtis({ name: 'john', unexpiredAt: 2_000 })).toEqual(['b']);
    expect(await jtis({ limit: 1 })).toEqual(['c']);
    expect((await store.read.listIssuedTokens({ family: 'user-token', name: 'john', limit: 1 }))[0]).toEqual(issued('b', 'john', [], 200, 5_000));
    expect((await store.read.listIssuedTokens({ family: 'zone-token', limit: 10 }))[0]).toMatchObject({ jti: 'd', kind: 'zone', zone: 'east' });
    expect(await store.transaction((tx) => tx.pruneIssuedTokens(2_000, 100))).toBe(1);
    expect(await jtis({ name: 'john' })).toEqual(['b']);
  });

  it('appends audit entries in order, filters and pages them newest first, and prunes the old', async () => {
    const { store } = await kind.fresh();
    const seqs: number[] = [];
    for (const [at, actor, action] of [[10, 'john', 'token.issue'], [20, 'localhost admin', 'secret.put'], [30, 'john', 'secret.put'], [40, 'john', 'token.issue']] as const) {
      seqs.push(await store.transaction((tx) => tx.appendAudit(entry(at, actor, action))));
    }
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    const list = async (q: Partial<Parameters<Store['read']['listAudit']>[0]>) => (await store.read.listAudit({ limit: 100, ...q })).map((r) => r.at);
    expect(await list({})).toEqual([40, 30, 20, 10]);
    expect(await list({ actor: 'john' })).toEqual([40, 30, 10]);
    expect(await list({ action: 'secret.put' })).toEqual([30, 20]);
    expect(await list({ since: 25 })).toEqual([40, 30]);
    const first = await store.read.listAudit({ limit: 2 });
    expect(await list({ before: first[1]!.seq })).toEqual([20, 10]);
    expect(first[0]).toEqual({ ...entry(40, 'john', 'token.issue'), seq: seqs[3] });
    // A failed transaction keeps no entry.
    await expect(store.transaction(async (tx) => {
      await tx.appendAudit(entry(50, 'john', 'secret.delete'));
      throw new Error('the action failed');
    })).rejects.toThrow('the action failed');
    expect(await list({ since: 50 })).toEqual([]);
    expect(await store.transaction((tx) => tx.pruneAudit(25, 100))).toBe(2);
    expect(await list({})).toEqual([40, 30]);
  });
});

describe('postgres store with replicas', () => {
  it('migrates once when several replicas open an empty database together, and they share one epoch', async () => {
    const settings = await postgres.createDatabase('contract_together');
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(settings).then(track)));
    expect(new Set(stores.map((s) => s.epoch)).size).toBe(1);
    expect(await stores[0]!.transaction((tx) => tx.recordChanges([revocation('x')], 1))).toBe(1);
    expect(await stores[3]!.read.version()).toBe(1);
  });

  it('gives a lease to one replica at a time; another takes it when the holder lets go', async () => {
    const settings = await postgres.createDatabase('contract_lease');
    const [a, b] = [await PostgresStore.open(settings).then(track), await PostgresStore.open(settings).then(track)];
    const leaseA = a.lease('leader', 'a');
    await expect.poll(() => leaseA.held, { timeout: 10_000 }).toBe(true);
    const leaseB = b.lease('leader', 'b');
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(leaseB.held).toBe(false);
    await leaseA.release();
    await expect.poll(() => leaseB.held, { timeout: 10_000 }).toBe(true);
    await leaseB.release();
  });

  it('names the database, never the password, when it cannot be reached', async () => {
    const settings = { ...postgres.settings, port: 1, password: 'secret-password-value' };
    const failure = await PostgresStore.open(settings).catch((error: unknown) => error as Error);
    expect(failure).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    expect((failure as Error).message).toContain(`postgres://${settings.user}@127.0.0.1:1/`);
    expect((failure as Error).message).not.toContain('secret-password-value');
  });
});
