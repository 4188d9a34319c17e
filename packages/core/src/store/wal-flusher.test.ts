import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WalFlusher } from './wal-flusher.js';

/** A datasync that finishes when the test says, recording which path it synced. */
function controlledDatasync() {
  const calls: { finish: (error?: Error) => void }[] = [];
  const datasync = () => new Promise<void>((resolve, reject) => calls.push({ finish: (error) => (error ? reject(error) : resolve()) }));
  return { calls, datasync };
}
const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('WalFlusher', () => {
  it('a sync asked for while one runs waits for the next one, shared by every such call', async () => {
    const { calls, datasync } = controlledDatasync();
    const flusher = new WalFlusher('/data/store.db', datasync);
    const first = flusher.sync();
    expect(calls).toHaveLength(1);
    const later = [flusher.sync(), flusher.sync(), flusher.sync()];
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    // The first sync may have started before the later commits: they are not answered by it.
    expect(await settled(Promise.all(later))).toBe(false);
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await Promise.all(later);
    expect(calls).toHaveLength(2);
  });

  it('fails the syncs a failed datasync covered, and tries again on the next', async () => {
    const { calls, datasync } = controlledDatasync();
    const flusher = new WalFlusher('/data/store.db', datasync);
    const failing = flusher.sync();
    calls[0]!.finish(new Error('EIO: i/o error'));
    await expect(failing).rejects.toThrow('EIO');
    const again = flusher.sync();
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await expect(again).resolves.toBeUndefined();
  });

  it('starts a sync in the background on kick, one at a time, never throwing; a sync asked for meanwhile still waits for one of its own', async () => {
    const { calls, datasync } = controlledDatasync();
    const flusher = new WalFlusher('/data/store.db', datasync);
    flusher.kick();
    flusher.kick();
    expect(calls).toHaveLength(1);
    const waiting = flusher.sync();
    calls[0]!.finish(new Error('EIO: i/o error'));
    expect(await settled(waiting)).toBe(false);
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    await waiting;
  });

  it('finds nothing to sync where there is no log file yet, then syncs the log once there is one, and lets it go on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshauth-wal-'));
    try {
      const path = join(dir, 'store.db');
      const flusher = new WalFlusher(path);
      await expect(flusher.sync()).resolves.toBeUndefined();
      writeFileSync(`${path}-wal`, 'frames');
      await expect(flusher.sync()).resolves.toBeUndefined();
      await expect(flusher.sync()).resolves.toBeUndefined();
      await flusher.close();
      // Closed: a sync opens the log again.
      await expect(flusher.sync()).resolves.toBeUndefined();
      await flusher.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
