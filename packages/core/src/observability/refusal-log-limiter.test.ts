import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { createLogger } from './logger.js';
import { createRefusalLogLimiter, OTHER_ADDRESSES, refusalLogDefaults, type RefusalLogLimits } from './refusal-log-limiter.js';

const limiters: { close(): void }[] = [];
afterEach(() => {
  for (const limiter of limiters.splice(0)) limiter.close();
});

/** A limiter over a manual clock, with the summary lines it logs and the suppressed count. */
function limiterUnderTest(limits: Partial<RefusalLogLimits> = {}) {
  const clock = createManualClock(1_000_000);
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const counted = { suppressed: 0 };
  const limiter = createRefusalLogLimiter({
    logger: createLogger({ level: 'info', name: 'test', destination }),
    clock,
    suppressed: { inc: () => (counted.suppressed += 1) },
    limits,
  });
  limiters.push(limiter);
  const admitted = (address: string | undefined, times: number) => Array.from({ length: times }, () => limiter.admit(address)).filter(Boolean).length;
  return { clock, lines, counted, limiter, admitted };
}

describe('refusal log limiter', () => {
  it(`lets ${refusalLogDefaults.linesPerWindow} lines per address through in a window, counts the rest, and summarises them once the window is over`, () => {
    const { clock, lines, counted, limiter, admitted } = limiterUnderTest();
    expect(admitted('203.0.113.9', 200)).toBe(refusalLogDefaults.linesPerWindow);
    expect(counted.suppressed).toBe(200 - refusalLogDefaults.linesPerWindow);
    limiter.sweep();
    expect(lines, 'no summary while the window lasts').toEqual([]);

    clock.advance(refusalLogDefaults.windowMs);
    limiter.sweep();
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'suppressed 190 refusal lines from 203.0.113.9', remoteAddress: '203.0.113.9', suppressed: 190, windowSeconds: 60 }),
    ]);
    expect(limiter.size, 'the ended window is forgotten').toBe(0);
    expect(admitted('203.0.113.9', 1), 'a new window').toBe(1);
  });

  it('limits each address on its own', () => {
    const { admitted } = limiterUnderTest({ linesPerWindow: 2 });
    expect(admitted('203.0.113.9', 5)).toBe(2);
    expect(admitted('203.0.113.10', 5)).toBe(2);
    expect(admitted(undefined, 5)).toBe(2);
  });

  it('summarises at the next refusal when a window ended before the sweep came', () => {
    const { clock, lines, admitted } = limiterUnderTest({ linesPerWindow: 1 });
    expect(admitted('203.0.113.9', 3)).toBe(1);
    clock.advance(refusalLogDefaults.windowMs);
    expect(admitted('203.0.113.9', 3)).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['suppressed 2 refusal lines from 203.0.113.9']);
  });

  it('writes no summary for an address that stayed within its lines', () => {
    const { clock, lines, limiter, admitted } = limiterUnderTest();
    expect(admitted('203.0.113.9', 3)).toBe(3);
    clock.advance(refusalLogDefaults.windowMs);
    limiter.sweep();
    limiter.close();
    expect(lines).toEqual([]);
  });

  it('tracks at most maxAddresses addresses; every further one shares a single allowance', () => {
    const { clock, lines, counted, limiter, admitted } = limiterUnderTest({ maxAddresses: 3, linesPerWindow: 2 });
    let logged = 0;
    for (let i = 0; i < 1_000; i += 1) logged += admitted(`2001:db8::${i.toString(16)}`, 5);
    expect(limiter.size).toBe(4);
    expect(logged, 'three addresses of their own, then one allowance for the other 997').toBe(4 * 2);
    expect(counted.suppressed).toBe(5_000 - 8);

    clock.advance(refusalLogDefaults.windowMs);
    limiter.sweep();
    expect(lines.map((l) => l.msg)).toContain(`suppressed ${997 * 5 - 2} refusal lines from ${OTHER_ADDRESSES}`);
    expect(limiter.size).toBe(0);
  });

  it('summarises every open window at close', () => {
    const { lines, limiter, admitted } = limiterUnderTest({ linesPerWindow: 1 });
    admitted('203.0.113.9', 4);
    admitted('203.0.113.10', 2);
    limiter.close();
    expect(lines.map((l) => l.msg).sort()).toEqual(['suppressed 1 refusal lines from 203.0.113.10', 'suppressed 3 refusal lines from 203.0.113.9']);
    expect(limiter.size).toBe(0);
  });
});
