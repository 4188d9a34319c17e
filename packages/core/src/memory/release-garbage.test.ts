import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { releaseGarbage } from './release-garbage.js';

/** Full (mark-compact) collections seen while `during` runs and a little after. */
async function majorCollections(during: () => void, waitMs: number): Promise<number> {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  during();
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  observer.disconnect();
  return seen.filter((entry) => (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR).length;
}

describe('releaseGarbage', () => {
  it('runs one full collection shortly after, however many times it is asked in a row', async () => {
    expect(await majorCollections(() => {}, 200)).toBe(0);
    expect(await majorCollections(() => {
      for (let i = 0; i < 5; i++) releaseGarbage();
    }, 200)).toBe(1);
    // Asked again later: it runs again.
    expect(await majorCollections(() => releaseGarbage(), 200)).toBe(1);
  });
});
