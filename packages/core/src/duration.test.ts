import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['.5s', 500],
    ['2h45m10.5s', 9_910_500],
    ['1h0m0s', 3_600_000],
    ['0', 0],
    ['-1h', -3_600_000],
    ['+2m', 120_000],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1ns', 0.000001],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '24', 'h', '1d', '1h ', ' 1h', '1hh', '1e3s', '-', '+', '1H', 'x'.repeat(65)])('refuses %j naming Go durations', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration .*Go duration such as "24h"/);
  });

  it('refuses non-strings', () => {
    expect(() => parseDuration(24 as unknown as string)).toThrow(TypeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [86_400_000, '24h0m0s'],
    [5_400_000, '1h30m0s'],
    [90_000, '1m30s'],
    [1_500, '1.5s'],
    [500, '500ms'],
    [0, '0s'],
    [-3_600_000, '-1h0m0s'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1_000, 61_000, 3_723_000, 86_400_000, 31_536_000_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
