/**
 * Benchmark sizes, in one place. `BENCH_QUICK=1` shrinks every size for a smoke run (seconds, not
 * minutes); each size can also be set on its own through the env name beside it.
 */
const quick = process.env.BENCH_QUICK === '1';

function size(env, full, smoke) {
  const raw = process.env[env];
  if (raw === undefined || raw === '') return quick ? smoke : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${env} must be a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

export const benchConfig = Object.freeze({
  quick,
  /** Distinct tokens verified per round, and rounds (each alternates core and baseline). */
  verifyTokens: size('BENCH_VERIFY_TOKENS', 2_000, 200),
  verifyRounds: size('BENCH_VERIFY_ROUNDS', 25, 2),
  /** autocannon connections (every HTTP benchmark); issuing's seconds per run and rounds (each a run and both baselines). */
  httpConnections: size('BENCH_HTTP_CONNECTIONS', 10, 4),
  httpSeconds: size('BENCH_HTTP_SECONDS', 3, 1),
  httpRounds: size('BENCH_HTTP_ROUNDS', 10, 1),
  /** Authentication overhead: pairs of back-to-back autocannon runs (one per route), and seconds per run. */
  pairedRounds: size('BENCH_PAIRED_ROUNDS', 40, 4),
  pairedSeconds: size('BENCH_PAIRED_SECONDS', 0.75, 0.5),
  /** Seconds of raw signing for the issue baseline, per round. */
  signSeconds: size('BENCH_SIGN_SECONDS', 3, 0.5),
  /** Revocations timed per propagation setup. */
  propagationSamples: size('BENCH_PROPAGATION_SAMPLES', 50, 3),
  /** Zone sync clients for the large propagation setups, and clients per process. */
  zonesMedium: size('BENCH_ZONES_MEDIUM', 100, 10),
  zonesLarge: size('BENCH_ZONES_LARGE', 1_000, 20),
  zonesPerProcess: size('BENCH_ZONES_PER_PROCESS', 250, 10),
  /** The 10,000-zone setups (propagation.zones10000, memory.global10000ZonesRssMb): zones, clients per process, revocations timed. */
  zonesHuge: size('BENCH_ZONES_HUGE', 10_000, 40),
  zonesHugePerProcess: size('BENCH_ZONES_HUGE_PER_PROCESS', 500, 10),
  propagationHugeSamples: size('BENCH_PROPAGATION_HUGE_SAMPLES', 30, 3),
  /** Revocations imported for the scale benchmark. */
  scaleRevocations: size('BENCH_SCALE_REVOCATIONS', 1_000_000, 10_000),
});
