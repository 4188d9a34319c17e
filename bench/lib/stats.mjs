/** Small statistics for benchmark samples. */
export function median(values) {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of the samples; NaN for none. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function round(value, digits = 2) {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Runs `fn` repeatedly for about `seconds`; returns operations per second. `fn` returns ops done. */
export function ratePerSecond(seconds, fn) {
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let ops = 0;
  while (performance.now() < deadline) ops += fn();
  return ops / ((performance.now() - start) / 1000);
}

/**
 * Rates measured in alternating rounds, reduced to one ratio: the median of the per-round ratios.
 * Each round pairs the two sides close together in time, so the load other processes put on a
 * shared machine hits both alike, and one disturbed round cannot move the median. Each side's
 * median rate, and the ratio of the two fastest rounds, are kept beside it.
 */
export function pairedRounds(rates, baselineRates, roundRatios) {
  return {
    ratio: round(median(roundRatios), 3),
    perSecond: Math.round(median(rates)),
    baselinePerSecond: Math.round(median(baselineRates)),
    bestRoundsRatio: round(Math.max(...rates) / Math.max(...baselineRates), 3),
  };
}

/**
 * Times in-process operations over the same items interleaved in small batches (each operation
 * on a batch in turn, the order rotating each batch), so all see the same machine from moment to
 * moment. Returns each operation's items per second over the whole pass, in the order given.
 */
export function interleavedPass(items, batchSize, ...operations) {
  const times = operations.map(() => 0);
  for (let i = 0, n = 0; i < items.length; i += batchSize, n++) {
    const batch = items.slice(i, i + batchSize);
    for (let k = 0; k < operations.length; k++) {
      const which = (n + k) % operations.length;
      const t0 = performance.now();
      operations[which](batch);
      times[which] += performance.now() - t0;
    }
  }
  return times.map((t) => items.length / (t / 1000));
}
