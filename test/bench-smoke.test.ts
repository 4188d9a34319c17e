/**
 * `pnpm bench` keeps working: the whole suite at smoke size (BENCH_QUICK=1, one benchmark after
 * another, as `pnpm bench` runs them) exits 0 and its results carry every figure the performance issue names, each beside the
 * baseline it was measured against. The figures themselves are not asserted: this machine is
 * shared and a smoke run is too small to mean anything.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from './support/daemon.js';

const dir = tempDir('meshauth-bench-smoke-');
afterAll(() => dir.remove());

const at = (o: any, path: string) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);

describe('pnpm bench (smoke size)', () => {
  it('runs every benchmark and writes every figure with its baseline', async () => {
    const out = join(dir.path, 'results.json');
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'bench/run.mjs'), '--out', out],
        { env: { ...process.env, BENCH_QUICK: '1' }, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    for (const key of [
      'verifyCold.ratio',
      'authOverhead.ratio',
      'issue.ratio',
      'propagation.zones2.p99Ms',
      'propagation.zones100.p99Ms',
      'propagation.zones1000.p99Ms',
      'scale.importSeconds',
      'scale.fullSyncSeconds',
      'scale.zoneRssMb',
      'ha.crossReplicaP99Ms',
      'ha.revokeP99Ms',
      'ha.failoverSeconds',
      'scale.deltaBytes',
      'scale.verifyRatio',
      'memory.idleZoneRssMb',
      'memory.global1000ZonesRssMb',
    ]) {
      expect(typeof at(results, key), key).toBe('number');
      expect(Number.isFinite(at(results, key)), key).toBe(true);
    }
    for (const key of ['verifyCold', 'authOverhead', 'issue']) expect(at(results, `${key}.baselinePerSecond`), key).toBeGreaterThan(0);
    expect(results.scale.verifyBaselinePerSecond).toBeGreaterThan(0);
    expect(results.memory.idleGlobalRssMb).toBeGreaterThan(0);
    expect(run.stdout).toContain('Cold verification');
  }, 300_000);
});
