import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../clock.js';
import { createLogger } from '../observability/logger.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { TokenFamilies } from '../tokens/token-families.js';
import type { AppliedVersion } from './change-feed.js';

const logger = createLogger({ level: 'silent', name: 'test' });
let dir: string;
let store: SqliteStore;
let families: TokenFamilies;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-feed-'));
  store = SqliteStore.open(join(dir, 'store.db'));
  families = await TokenFamilies.open({ store, clock: systemClock, logger });
});
afterEach(async () => {
  families.feed.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ChangeFeed', () => {
  it('applies its own commits from what they wrote, without reading the log back', async () => {
    const reads = vi.spyOn(store.read, 'changesAfter');
    const applied: AppliedVersion[] = [];
    families.feed.onApplied((version) => applied.push(version));
    await families.user.family.revoke('one');
    await families.user.family.revoke('two');
    expect(reads).not.toHaveBeenCalled();
    expect(families.user.family.revocations.has('two')).toBe(true);
    // As the log has them: the ids global hands its zones, what each version changed.
    const logged = await store.read.versionsBetween(0, await store.read.version());
    expect(applied.map(({ version, id, committedAt }) => ({ version, id, committedAt }))).toEqual(logged.slice(-2));
    expect(applied.map((a) => a.changes.get(families.user.family.name.id)?.revocationsAdded.map((r) => r.jti))).toEqual([['one'], ['two']]);
  });

  it('reads the log when a commit of its own follows one it has not seen', async () => {
    // A commit through another handle on the file: this handle's feed gets no hint for it.
    const other = SqliteStore.open(join(dir, 'store.db'));
    const otherFamilies = await TokenFamilies.open({ store: other, clock: systemClock, logger });
    await otherFamilies.user.family.revoke('elsewhere');
    otherFamilies.feed.stop();
    await other.close();
    const reads = vi.spyOn(store.read, 'changesAfter');
    await families.user.family.revoke('here');
    expect(reads).toHaveBeenCalled();
    expect(families.feed.version).toBe(await store.read.version());
    expect(['elsewhere', 'here'].map((jti) => families.user.family.revocations.has(jti))).toEqual([true, true]);
  });

  it('reads again for a writer whose version committed after the read under way had looked', async () => {
    const read = store.read.changesAfter.bind(store.read);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let looked!: () => void;
    const lookedAt = new Promise<void>((resolve) => (looked = resolve));
    // The first read finds the log as it was, then is held until the write below has committed.
    vi.spyOn(store.read, 'changesAfter').mockImplementationOnce(async (...args) => {
      const rows = await read(...args);
      looked();
      await held;
      return rows;
    });
    const reading = families.feed.catchUp();
    await lookedAt;
    // A commit through another handle on the file: this handle's feed gets no hint for it.
    const other = SqliteStore.open(join(dir, 'store.db'));
    const otherFamilies = await TokenFamilies.open({ store: other, clock: systemClock, logger });
    await otherFamilies.user.family.revoke('late');
    const version = await other.read.version();
    otherFamilies.feed.stop();
    await other.close();

    const waiting = families.feed.untilApplied(version);
    release();
    // Once the read under way has ended, the version is in memory: it read again, without
    // waiting for a hint or the periodic catch-up.
    await reading;
    expect(families.feed.version).toBe(version);
    await waiting;
    expect(families.user.family.revocations.has('late')).toBe(true);
  });
});
