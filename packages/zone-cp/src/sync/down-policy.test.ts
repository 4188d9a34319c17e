import { describe, expect, it } from 'vitest';
import { createManualClock, SqliteStore, type SigningKey } from '@meshauth/core';
import { downPolicyRefusal } from './down-policy.js';
import { SyncedState } from './synced-state.js';

const key = (origin: 'local' | 'synced') => ({ serial: 1, origin }) as SigningKey;

describe('down policy', () => {
  it('keep never refuses', async () => {
    const store = SqliteStore.open(':memory:');
    expect(downPolicyRefusal('keep', await SyncedState.load(store), createManualClock(0))).toBeUndefined();
    await store.close();
  });

  it('deny-after refuses synced keys only, only after that long without contact, and forgives on contact', async () => {
    const store = SqliteStore.open(':memory:');
    const clock = createManualClock(1_000_000);
    const state = await SyncedState.load(store);
    state.contact(clock.now(), 0);
    const refuse = downPolicyRefusal('deny-after:1m', state, clock)!;
    clock.advance(60_000);
    expect(refuse(key('synced'))).toBeUndefined();
    clock.advance(1);
    expect(refuse(key('synced'))).toMatch(/has not heard from for .*deny-after:1m/);
    expect(refuse(key('local'))).toBeUndefined();
    state.contact(clock.now(), 0);
    expect(refuse(key('synced'))).toBeUndefined();
    // The last contact survives a restart (contact writes in the background: transactions run in
    // order, so one more after it ends once that write has committed).
    await store.transaction(async () => {});
    expect((await SyncedState.load(store)).lastContactAt).toBe(clock.now());
    await store.close();
  });
});
