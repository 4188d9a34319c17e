import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, type Batch } from '@meshauth/core';
import { encodeSnapshot, snapshotReason, type ZonePosition } from './sync-batches.js';

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

/** A global store at version `versions`, one revocation per version. */
async function storeAt(versions: number): Promise<SqliteStore> {
  const store = SqliteStore.open(':memory:');
  opened.push(store);
  for (let i = 1; i <= versions; i++) {
    await store.transaction((tx) => tx.recordChanges([{ family: 'user-token', entity: 'revocation', ref: `jti-${i}`, op: 'put', expiresAt: null }], Date.now()));
  }
  return store;
}

/** Where a zone stands that applied `version` of this store's history. */
const appliedFrom = async (store: SqliteStore, version: number): Promise<ZonePosition> => ({
  epoch: store.epoch,
  appliedVersion: version,
  appliedVersionId: (await store.read.versionInfo(version))?.id ?? '',
  appliedModeMatches: true,
});

/** Global's answer at its current version. */
const reason = async (store: SqliteStore, zone: ZonePosition | Promise<ZonePosition>) => snapshotReason(store, await store.read.version(), await zone, () => 100);

describe('snapshotReason', () => {
  it('sends a delta to a zone that applied a version of this history, up to the current one', async () => {
    const store = await storeAt(5);
    expect(await reason(store, appliedFrom(store, 3))).toBeUndefined();
    expect(await reason(store, appliedFrom(store, 5))).toBeUndefined();
  });

  it('sends a snapshot to a new zone, one from another epoch, or one whose mode changed', async () => {
    const store = await storeAt(2);
    const at2 = await appliedFrom(store, 2);
    expect(await reason(store, { ...at2, epoch: '', appliedVersion: 0 })).toBe('new zone');
    expect(await reason(store, { ...at2, epoch: 'other' })).toMatch(/another global store epoch/);
    expect(await reason(store, { ...at2, appliedModeMatches: false })).toBe('sync mode changed');
  });

  it('sends a snapshot when the version the zone applied has another id here: the store was restored from a backup and moved on', async () => {
    const store = await storeAt(5);
    const fromTheLostHistory = { ...(await appliedFrom(store, 4)), appliedVersionId: '0123456789abcdef' };
    expect(await reason(store, fromTheLostHistory)).toBe('zone state is from a different history of this store (restored from a backup?)');
    // At global's current version too: same number, other changes.
    expect(await reason(store, { ...(await appliedFrom(store, 5)), appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
  });

  it('sends a snapshot when global does not know the id of the version the zone applied (committed before ids existed)', async () => {
    const store = await storeAt(3);
    store.db.prepare('DELETE FROM version_ids WHERE version = 2').run();
    expect(await reason(store, { ...(await appliedFrom(store, 3)), appliedVersion: 2, appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
  });

  it('sends a snapshot to a zone that names no id for its version (it synced from an older meshauth)', async () => {
    const store = await storeAt(3);
    expect(await reason(store, { ...(await appliedFrom(store, 2)), appliedVersionId: '' })).toMatch(/did not say which history/);
  });

  it('says the zone is ahead when the restored store has not yet reached its version', async () => {
    const store = await storeAt(3);
    expect(await reason(store, { ...(await appliedFrom(store, 3)), appliedVersion: 4, appliedVersionId: '0123456789abcdef' })).toMatch(/ahead of global/);
  });

  it('checks the id at the change-log floor and says a zone below it is behind, not from another history', async () => {
    const store = await storeAt(5);
    const atFloor = await appliedFrom(store, 3);
    const belowFloor = await appliedFrom(store, 2);
    await store.transaction((tx) => tx.pruneChangeLog(2));
    expect(await store.read.changeLogFloor()).toBe(3);
    expect(await reason(store, atFloor)).toBeUndefined();
    expect(await reason(store, { ...atFloor, appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
    expect(await reason(store, belowFloor)).toBe('zone is behind the kept change log');
  });
});

describe('encodeSnapshot', () => {
  it('hands over each finished chunk while the store is still read, and returns the rest with the last one marked', async () => {
    const store = SqliteStore.open(':memory:');
    opened.push(store);
    const jtis = Array.from({ length: 150_000 }, () => randomUUID());
    await store.transaction((tx) => tx.addRevocationsCounting('user-token', jtis.map((jti) => ({ jti, revokedAt: 1, expiresAt: null }))));
    const header = { kind: 'snapshot' as const, epoch: store.epoch, fromVersion: 0, toVersion: 1, toVersionId: 'v1', committedAt: 1 };
    const sealed: Batch[][] = [];
    const rest = await encodeSnapshot(store, 'user-token', header, 'public', (chunks) => sealed.push(chunks));
    const early = sealed.flat();
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(early.map((b) => b.last)).not.toContain(true);
    expect(rest.at(-1)!.last).toBe(true);
    const all = [...early, ...rest];
    expect(all.map((b) => b.chunk)).toEqual(all.map((_, i) => i));
    const sent = all.reduce((n, b) => n + (b.addedUuidJtis as Buffer).length / 16, 0);
    expect(sent).toBe(jtis.length);
  });
});
