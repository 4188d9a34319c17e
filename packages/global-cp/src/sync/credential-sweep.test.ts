import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialSweep, type CredentialHolder } from './credential-sweep.js';

const holder = (onCheck: () => void = () => {}): CredentialHolder & { checks: number } => {
  const h = {
    checks: 0,
    recheckCredential() {
      h.checks++;
      onCheck();
    },
  };
  return h;
};

describe('CredentialSweep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('re-checks every watched holder each interval, on one timer, whether or not anything else happens', () => {
    const sweep = new CredentialSweep(250);
    const holders = [holder(), holder(), holder()];
    for (const h of holders) sweep.watch(h);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(holders.map((h) => h.checks)).toEqual([4, 4, 4]);
    sweep.stop();
  });

  it('stops checking a holder once unwatched, and runs no timer while nothing is watched', () => {
    const sweep = new CredentialSweep(250);
    const a = holder();
    const b = holder();
    const unwatchA = sweep.watch(a);
    const unwatchB = sweep.watch(b);
    vi.advanceTimersByTime(250);
    unwatchA();
    vi.advanceTimersByTime(250);
    expect([a.checks, b.checks]).toEqual([1, 2]);
    unwatchB();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets a holder end itself (and unwatch) during the sweep without skipping the others', () => {
    const sweep = new CredentialSweep(250);
    let unwatchFirst = () => {};
    const first = holder(() => unwatchFirst());
    const second = holder();
    unwatchFirst = sweep.watch(first);
    sweep.watch(second);
    sweep.sweep();
    sweep.sweep();
    expect([first.checks, second.checks]).toEqual([1, 2]);
    sweep.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-checks every holder on the tick after the stamp moves, and otherwise only every 5 s', () => {
    let stamp = 1;
    let now = 0;
    const sweep = new CredentialSweep(250, () => stamp, () => now);
    const holders = [holder(), holder()];
    for (const h of holders) sweep.watch(h);
    now += 250;
    vi.advanceTimersByTime(250);
    expect(holders.map((h) => h.checks)).toEqual([0, 0]);
    stamp = 2;
    now += 250;
    vi.advanceTimersByTime(250);
    expect(holders.map((h) => h.checks)).toEqual([1, 1]);
    now += 250;
    vi.advanceTimersByTime(250);
    expect(holders.map((h) => h.checks)).toEqual([1, 1]);
    // Nothing moved for 5 s since the last sweep: the safety net re-checks anyway.
    now += 4_750;
    vi.advanceTimersByTime(4_750);
    expect(holders.map((h) => h.checks)).toEqual([2, 2]);
    sweep.stop();
  });

  it('an explicit sweep re-checks at once and takes the stamp it saw', () => {
    let stamp = 1;
    const now = 0;
    const sweep = new CredentialSweep(250, () => stamp, () => now);
    const h = holder();
    sweep.watch(h);
    stamp = 2;
    sweep.sweep();
    expect(h.checks).toBe(1);
    vi.advanceTimersByTime(250);
    expect(h.checks).toBe(1);
    sweep.stop();
  });
});
