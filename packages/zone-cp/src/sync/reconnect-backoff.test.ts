import { describe, expect, it } from 'vitest';
import { ReconnectBackoff } from './reconnect-backoff.js';

describe('ReconnectBackoff', () => {
  it('grows exponentially up to the cap, with the jitter spanning [min, ceiling]', () => {
    const high = new ReconnectBackoff(100, 1_000, () => 1);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    const low = new ReconnectBackoff(100, 1_000, () => 0);
    expect(Array.from({ length: 4 }, () => low.next())).toEqual([100, 100, 100, 100]);
  });

  it('starts over after a successful connection', () => {
    const backoff = new ReconnectBackoff(100, 10_000, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
