import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../clock.js';
import { createLogger } from '../observability/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { IssuedTokenRecords } from './issued-token-records.js';
import { TokenFamilies } from './token-families.js';

const HOUR = 3_600_000;
const logger = createLogger({ level: 'silent', name: 'test' });
let dir: string;
let store: SqliteStore;
let families: TokenFamilies;
const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));

beforeEach(async () => {
  clock.set(Date.parse('2026-01-01T00:00:00Z'));
  dir = mkdtempSync(join(tmpdir(), 'meshauth-records-'));
  store = SqliteStore.open(join(dir, 'global.db'));
  families = await TokenFamilies.open({ store, clock, logger });
});

afterEach(async () => {
  families.feed.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = () => IssuedTokenRecords.open({ store, clock, instance: 'i-1', maxValidForMs: 24 * HOUR });
const issueUser = (records: IssuedTokenRecords, name: string, groups: string[], validForMs = HOUR) =>
  records.issue(families.user, { Name: name, Groups: groups }, validForMs, { kind: 'user', name, groups }, 'admin');

describe('IssuedTokenRecords', () => {
  it('records a token with its subject and times, revokes all of a subject, and prunes records past exp', async () => {
    const records = await open();
    await families.user.family.generateKey();
    const short = await issueUser(records, 'john', ['ops']);
    await issueUser(records, 'john', [], 3 * HOUR);
    await issueUser(records, 'jane', ['ops'], 3 * HOUR);
    const john = await records.list(families.user.family, { name: 'john' });
    expect(john).toHaveLength(2);
    expect(john.find((r) => r.groups.length > 0)).toMatchObject({
      kind: 'user', name: 'john', groups: ['ops'], issuedAt: clock.now(), expiresAt: clock.now() + HOUR, issuedBy: 'admin', instance: 'i-1', revoked: false, expired: false,
    });
    expect(JSON.stringify(john)).not.toContain(short.split('.')[2]);

    clock.advance(2 * HOUR);
    // The expired token is not revoked (exp refuses it anyway); the other one is.
    expect(await records.revokeAll(families.user.family, { name: 'john' })).toHaveLength(1);
    expect((await records.list(families.user.family, { name: 'john' })).map((r) => [r.expired, r.revoked]).sort()).toEqual([[false, true], [true, false]]);
    expect(await records.revokeAll(families.user.family, { group: 'ops' })).toHaveLength(1);

    expect(await records.pruneExpired()).toBe(1);
    clock.advance(2 * HOUR);
    expect(await records.pruneExpired()).toBe(2);
    expect(await records.list(families.user.family, {})).toEqual([]);
  });

  it('keeps no record of a token whose audit entry fails, and hands out no token', async () => {
    const records = await open();
    await families.user.family.generateKey();
    const failing = records.issue(families.user, { Name: 'x', Groups: [] }, HOUR, { kind: 'user', name: 'x', groups: [] }, 'admin', async () => {
      throw new Error('audit log unavailable');
    });
    await expect(failing).rejects.toThrow('audit log unavailable');
    expect(await records.list(families.user.family, {})).toEqual([]);
  });

  it('records tokens issued at the same moment in one transaction, each handed out once its record is in', async () => {
    const records = await open();
    await families.user.family.generateKey();
    const transactions = vi.spyOn(store, 'transaction');
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => issueUser(records, `user-${i}`, [])));
    expect(new Set(tokens).size).toBe(20);
    // Signing runs on the thread pool and finishes at different moments: fewer commits than tokens.
    expect(transactions.mock.calls.length).toBeLessThan(20);
    expect((await records.list(families.user.family, {})).map((r) => r.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `user-${i}`).sort());
  });

  it('knows when tokens may exist that were issued before recording began', async () => {
    // A fresh store: recording starts with the first key, so nothing is unrecorded.
    expect((await open()).unrecordedBefore()).toBeUndefined();
    // A store that had keys before recording began (an upgrade): as long as a token then issued may still be valid.
    await store.transaction((tx) => tx.deleteMeta('issuedTokens/recordingSince'));
    await families.user.family.generateKey();
    const since = clock.now();
    const upgraded = await open();
    expect(upgraded.unrecordedBefore()).toBe(since);
    // Once per store: a restart keeps the first time.
    clock.advance(HOUR);
    expect((await open()).unrecordedBefore()).toBe(since);
    clock.advance(23 * HOUR + 1);
    expect(upgraded.unrecordedBefore()).toBeUndefined();
  });
});

describe('IssuedTokenRecords, every kind and every boundary', () => {
  it('records a zone and a dataplane token under the subject columns their kind uses, and leaves the others empty', async () => {
    const records = await open();
    await families.zone.family.generateKey();
    const mesh = families.dataplane('default');
    await mesh.family.generateKey();
    await records.issue(families.zone, { Zone: 'zone-1', Scope: ['cp'] }, HOUR, { kind: 'zone', zone: 'zone-1' }, 'admin');
    await records.issue(mesh, { Name: 'web', Mesh: 'default', Tags: {}, Type: '', Zone: '' }, HOUR, { kind: 'dataplane', mesh: 'default', name: 'web' }, 'zone-1');
    expect(await records.list(families.zone.family, {})).toEqual([
      expect.objectContaining({ family: 'zone-token', kind: 'zone', name: '', groups: [], zone: 'zone-1', mesh: '', issuedBy: 'admin' }),
    ]);
    expect(await records.list(mesh.family, {})).toEqual([
      expect.objectContaining({ family: 'dataplane-token/default', kind: 'dataplane', name: 'web', groups: [], zone: '', mesh: 'default', issuedBy: 'zone-1' }),
    ]);
    // A user token's record names no zone and no mesh.
    await families.user.family.generateKey();
    await issueUser(records, 'john', ['ops']);
    expect(await records.list(families.user.family, {})).toEqual([expect.objectContaining({ kind: 'user', name: 'john', groups: ['ops'], zone: '', mesh: '' })]);
  });

  it('lists a token as expired from the moment its exp is reached, as the verifier refuses it', async () => {
    const records = await open();
    await families.user.family.generateKey();
    const token = await issueUser(records, 'john', []);
    clock.advance(HOUR - 1);
    expect((await records.list(families.user.family, {})).map((r) => r.expired)).toEqual([false]);
    clock.advance(1);
    expect((await records.list(families.user.family, {})).map((r) => r.expired)).toEqual([true]);
    expect(() => families.user.verifier.verify(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED' }));
  });

  it('stops reporting unrecorded tokens the moment the longest-lived of them would have expired', async () => {
    await families.user.family.generateKey();
    const since = clock.now();
    const upgraded = await open();
    expect(upgraded.unrecordedBefore()).toBe(since);
    clock.advance(24 * HOUR - 1);
    expect(upgraded.unrecordedBefore()).toBe(since);
    clock.advance(1);
    expect(upgraded.unrecordedBefore()).toBeUndefined();
  });

  it('prunes every expired record, however many more than one pruning transaction holds', async () => {
    const records = await open();
    const expiredCount = 10_000 + 1;
    await store.transaction(async (tx) => {
      for (let i = 0; i < expiredCount; i++) {
        await tx.recordIssuedToken({ family: 'user-token', jti: `old-${i}`, kind: 'user', name: 'john', groups: [], zone: '', mesh: '', issuedAt: clock.now(), expiresAt: clock.now() + 1, issuedBy: 'admin', instance: 'i-1' });
      }
    });
    await families.user.family.generateKey();
    await issueUser(records, 'john', [], 2 * HOUR);
    clock.advance(HOUR);
    expect(await records.pruneExpired()).toBe(expiredCount);
    expect((await records.list(families.user.family, {})).map((r) => r.expired)).toEqual([false]);
    expect(await records.pruneExpired()).toBe(0);
  });
});
