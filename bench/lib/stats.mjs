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

/** Times one pass of `fn` over `count` operations; returns operations per second. */
export function timedPass(count, fn) {
  const start = performance.now();
  fn();
  return count / ((performance.now() - start) / 1000);
}

/**
 * Rates measured in alternating rounds, reduced to one ratio. On a busy shared machine other
 * processes only ever slow a round down, so each side's fastest round is its closest figure to the
 * undisturbed rate: `ratio` is best over best. The median of the per-round ratios is kept beside it.
 */
export function bestOfRounds(rates, baselineRates, roundRatios) {
  const best = Math.max(...rates);
  const baselineBest = Math.max(...baselineRates);
  return {
    ratio: round(best / baselineBest, 3),
    perSecond: Math.round(best),
    baselinePerSecond: Math.round(baselineBest),
    medianRoundRatio: round(median(roundRatios), 3),
  };
}
