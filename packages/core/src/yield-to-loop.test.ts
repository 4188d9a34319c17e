import { afterEach, describe, expect, it, vi } from 'vitest';
import { SliceClock, yieldToLoop } from './yield-to-loop.js';

describe('SliceClock', () => {
  afterEach(() => vi.useRealTimers());

  it('says a slice is over only once it has run 10 ms, and reads the clock every 64 rows', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const clock = new SliceClock();
    const dueAt = () => Array.from({ length: 128 }, () => clock.due()).flatMap((due, i) => (due ? [i] : []));
    expect(dueAt()).toEqual([]);
    vi.advanceTimersByTime(9);
    expect(dueAt()).toEqual([]);
    vi.advanceTimersByTime(1);
    // Past 10 ms, every 64th row says so until a pause starts the next slice.
    expect(dueAt()).toEqual([63, 127]);
    await clock.pause();
    expect(dueAt()).toEqual([]);
  });

  it('lets queued work run before it resolves', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await yieldToLoop();
    expect(ran).toBe(true);
  });
});
