import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '@meshauth/core';
import { snapshotReason, type ZonePosition } from './sync-batches.js';

const opened: SqliteStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

/** A global store at version `versions`, one revocation per version. */
function storeAt(versions: number): SqliteStore {
  const store = SqliteStore.open(':memory:');
  opened.push(store);
  for (let i = 1; i <= versions; i++) store.transaction(() => store.recordChanges([{ entity: 'revocation', ref: `jti-${i}`, op: 'put' }]));
  return store;
}

/** Where a zone stands that applied `version` of this store's history. */
const appliedFrom = (store: SqliteStore, version: number): ZonePosition => ({
  epoch: store.epoch,
  appliedVersion: version,
  appliedVersionId: store.versionId(version) ?? '',
  appliedModeMatches: true,
});

const reason = (store: SqliteStore, zone: ZonePosition) => snapshotReason(store, zone, () => 100);

describe('snapshotReason', () => {
  it('sends a delta to a zone that applied a version of this history, up to the current one', () => {
    const store = storeAt(5);
    expect(reason(store, appliedFrom(store, 3))).toBeUndefined();
    expect(reason(store, appliedFrom(store, 5))).toBeUndefined();
  });

  it('sends a snapshot to a new zone, one from another epoch, or one whose mode changed', () => {
    const store = storeAt(2);
    expect(reason(store, { ...appliedFrom(store, 2), epoch: '', appliedVersion: 0 })).toBe('new zone');
    expect(reason(store, { ...appliedFrom(store, 2), epoch: 'other' })).toMatch(/another global store epoch/);
    expect(reason(store, { ...appliedFrom(store, 2), appliedModeMatches: false })).toBe('sync mode changed');
  });

  it('sends a snapshot when the version the zone applied has another id here: the store was restored from a backup and moved on', () => {
    const store = storeAt(5);
    const fromTheLostHistory = { ...appliedFrom(store, 4), appliedVersionId: '0123456789abcdef' };
    expect(reason(store, fromTheLostHistory)).toBe('zone state is from a different history of this store (restored from a backup?)');
    // At global's current version too: same number, other changes.
    expect(reason(store, { ...appliedFrom(store, 5), appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
  });

  it('sends a snapshot when global does not know the id of the version the zone applied (committed before ids existed)', () => {
    const store = storeAt(3);
    store.db.prepare('DELETE FROM version_ids WHERE version = 2').run();
    expect(reason(store, { ...appliedFrom(store, 3), appliedVersion: 2, appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
  });

  it('sends a snapshot to a zone that names no id for its version (it synced from an older meshauth)', () => {
    const store = storeAt(3);
    expect(reason(store, { ...appliedFrom(store, 2), appliedVersionId: '' })).toMatch(/did not say which history/);
  });

  it('says the zone is ahead when the restored store has not yet reached its version', () => {
    const store = storeAt(3);
    expect(reason(store, { ...appliedFrom(store, 3), appliedVersion: 4, appliedVersionId: '0123456789abcdef' })).toMatch(/ahead of global/);
  });

  it('checks the id at the change-log floor and says a zone below it is behind, not from another history', () => {
    const store = storeAt(5);
    const atFloor = appliedFrom(store, 3);
    const belowFloor = appliedFrom(store, 2);
    store.transaction(() => store.pruneChangeLog(2));
    expect(store.changeLogFloor).toBe(3);
    expect(reason(store, atFloor)).toBeUndefined();
    expect(reason(store, { ...atFloor, appliedVersionId: '0123456789abcdef' })).toMatch(/different history/);
    expect(reason(store, belowFloor)).toBe('zone is behind the kept change log');
  });
});
