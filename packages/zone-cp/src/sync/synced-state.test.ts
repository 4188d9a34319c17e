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
});
