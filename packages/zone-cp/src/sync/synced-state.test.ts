import { describe, expect, it } from 'vitest';
import { SqliteStore } from '@meshauth/core';
import { SyncedState } from './synced-state.js';

describe('synced state', () => {
  it('keeps the id of the applied version with it, and forgets both together', async () => {
    const store = SqliteStore.open(':memory:');
    const state = await SyncedState.load(store);
    expect(state.appliedVersionId).toBe('');
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 7, '0123456789abcdef', 'public', 1_000));
    state.applied('epoch-1', 7, '0123456789abcdef', 'public', 1_000);

    // What the next Hello says after a restart: read back from the store.
    const restarted = await SyncedState.load(store);
    expect([restarted.epoch, restarted.appliedVersion, restarted.appliedVersionId]).toEqual(['epoch-1', 7, '0123456789abcdef']);

    await restarted.forget();
    expect((await SyncedState.load(store)).appliedVersionId).toBe('');
    expect(restarted.appliedVersionId).toBe('');
    await store.close();
  });

  it('writes the position a batch brings as one row, and reads a store that holds it as the six keys of before', async () => {
    const store = SqliteStore.open(':memory:');
    const state = await SyncedState.load(store);
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 7, '0123456789abcdef', 'public', 1_000));
    const rows = store.db.prepare("SELECT key FROM meta WHERE key LIKE 'sync.%' ORDER BY key").pluck().all();
    expect(rows).toEqual(['sync.position']);

    // A store written before: six keys, no position row.
    const older = SqliteStore.open(':memory:');
    await older.transaction((tx) =>
      tx.setMetas([
        ['sync.globalEpoch', 'epoch-0'],
        ['sync.appliedVersion', '41'],
        ['sync.appliedVersionId', 'fedcba9876543210'],
        ['sync.appliedMode', 'private'],
        ['sync.lastContactAt', '5000'],
        ['sync.lastSyncAt', '4000'],
      ]),
    );
    const loaded = await SyncedState.load(older);
    expect([loaded.epoch, loaded.appliedVersion, loaded.appliedVersionId, loaded.appliedMode, loaded.lastContactAt, loaded.lastSyncAt]).toEqual([
      'epoch-0',
      41,
      'fedcba9876543210',
      'private',
      5_000,
      4_000,
    ]);
    // Its next batch writes the row, which then wins over the keys left behind; forgetting clears both.
    await older.transaction((tx) => loaded.recordApplied(tx, 'epoch-0', 42, '00000000000000aa', 'private', 6_000));
    expect((await SyncedState.load(older)).appliedVersion).toBe(42);
    await loaded.forget();
    expect(older.db.prepare("SELECT count(*) FROM meta WHERE key LIKE 'sync.%'").pluck().get()).toBe(0);
    await older.close();
    await store.close();
  });

  it('reads the old keys when a replica on the code before wrote them after the row (a rolling upgrade), and drops them once stale', async () => {
    const store = SqliteStore.open(':memory:');
    const state = await SyncedState.load(store);
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 7, '0123456789abcdef', 'public', 1_000));
    // A replica still on the old code leads for a while, on the same database: six keys, later.
    const oldLeaderWrites = (version: number, at: number) =>
      store.transaction((tx) =>
        tx.setMetas([
          ['sync.globalEpoch', 'epoch-1'],
          ['sync.appliedVersion', String(version)],
          ['sync.appliedVersionId', `00000000000000${version}`],
          ['sync.appliedMode', 'public'],
          ['sync.lastSyncAt', String(at)],
        ]),
      );
    await oldLeaderWrites(9, 500); // its clock behind: within one epoch the version decides
    await state.refresh();
    expect([state.appliedVersion, state.appliedVersionId]).toEqual([9, '000000000000009']);

    // This replica leads again: its batch writes the row, and the old keys stay (they are not stale yet)...
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 10, '000000000000010a', 'public', 2_000));
    const keys = () => store.db.prepare("SELECT key FROM meta WHERE key LIKE 'sync.%' ORDER BY key").pluck().all();
    expect(keys()).toContain('sync.appliedVersion');
    // ...until a load sees them older than the row: the next batch deletes them.
    await state.refresh();
    expect(state.appliedVersion).toBe(10);
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 11, '000000000000011a', 'public', 3_000));
    expect(keys()).toEqual(['sync.position']);
    expect((await SyncedState.load(store)).appliedVersion).toBe(11);

    // Across an epoch change (global's store replaced), the later moment decides.
    await oldLeaderWrites(2, 4_000);
    await store.transaction((tx) => tx.setMeta('sync.globalEpoch', 'epoch-2'));
    expect([(await SyncedState.load(store)).epoch, (await SyncedState.load(store)).appliedVersion]).toEqual(['epoch-2', 2]);
    await store.close();
  });

  it('takes the last contact from whichever is later: a heartbeat after the last batch, or the last batch', async () => {
    const store = SqliteStore.open(':memory:');
    const state = await SyncedState.load(store);
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 3, '0123456789abcdef', 'public', 2_000));
    state.applied('epoch-1', 3, '0123456789abcdef', 'public', 2_000);
    expect((await SyncedState.load(store)).lastContactAt).toBe(2_000);
    state.contact(9_000, 0);
    // contact writes in the background; the next transaction runs after it.
    await store.transaction(async () => {});
    expect((await SyncedState.load(store)).lastContactAt).toBe(9_000);
    await store.transaction((tx) => state.recordApplied(tx, 'epoch-1', 4, '0123456789abcdee', 'public', 12_000));
    const after = await SyncedState.load(store);
    expect([after.lastContactAt, after.lastSyncAt]).toEqual([12_000, 12_000]);
    await store.close();
  });
});
