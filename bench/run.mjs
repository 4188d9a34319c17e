#!/usr/bin/env node
/**
 * `pnpm bench`: runs every benchmark in its own child process (a fresh heap and event loop each,
 * daemons started and stopped inside), prints the table, writes bench/results.json.
 *   --only verify-cold,issue   run a subset
 *   --readme                   also rewrite the `## Performance` section of README.md
 *   --out FILE                 write the results there instead of bench/results.json
 *   --parallel                 run the benchmarks at the same time: for smoke tests only, the
 *                              figures are then meaningless
 * BENCH_QUICK=1 shrinks every size for a smoke run; see lib/config.mjs for each size's env name.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { benchConfig } from './lib/config.mjs';
import { consoleTable, requiredKeys } from './lib/report.mjs';
import { writeReadmeSection } from './lib/readme-section.mjs';
import { RESULT_MARKER } from './lib/standalone.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const benchmarks = [
  { file: 'verify-cold.mjs', key: 'verifyCold' },
  { file: 'auth-overhead.mjs', key: 'authOverhead' },
  { file: 'issue.mjs', key: 'issue' },
  { file: 'propagation.mjs', key: 'propagation' },
  { file: 'scale.mjs', key: 'scale' },
  { file: 'memory.mjs', key: 'memory' },
  { file: 'ha.mjs', key: 'ha' },
];
/** No single benchmark may take longer than this; the whole suite must stay under 10 minutes. */
const BENCH_TIMEOUT_MS = 8 * 60_000;

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function runBenchmark(file) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(benchDir, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), BENCH_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code === 0 && line) return resolve(JSON.parse(line.slice(RESULT_MARKER.length)));
      resolve({ error: `${file} exited with ${code ?? signal}${line ? '' : ' without a result'}` });
    });
  });
}

const only = argValue('--only')?.split(',');
const selected = benchmarks.filter((b) => !only || only.includes(b.file.replace(/\.mjs$/, '')) || only.includes(b.key));
const startedAt = new Date();
const results = {
  meta: {
    command: `${benchConfig.quick ? 'BENCH_QUICK=1 ' : ''}${process.env.BENCH_PROPAGATION_SETUPS ? `BENCH_PROPAGATION_SETUPS=${process.env.BENCH_PROPAGATION_SETUPS} ` : ''}pnpm bench`,
    startedAt: startedAt.toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    config: benchConfig,
  },
};
let failed = false;
const runOne = async ({ file, key }) => {
  // What the last benchmark wrote (a million-row store, 10,000 zones' files) is flushed to disk
  // first: left to the kernel's writeback, it can land in the middle of the next benchmark's
  // fsyncs (the PostgreSQL revoke p99, last in the suite, was 17 ms run alone and 32 ms in a full run).
  execFileSync('sync');
  const t = performance.now();
  process.stderr.write(`\n== ${file}\n`);
  results[key] = await runBenchmark(file);
  results[key].seconds = Math.round((performance.now() - t) / 100) / 10;
  if (results[key].error) {
    failed = true;
    process.stderr.write(`!! ${results[key].error}\n`);
  }
};
if (process.argv.includes('--parallel')) await Promise.all(selected.map(runOne));
else for (const benchmark of selected) await runOne(benchmark);
results.meta.totalSeconds = Math.round((Date.now() - startedAt.getTime()) / 100) / 10;
results.meta.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);

const out = argValue('--out') ?? join(benchDir, 'results.json');
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\n${consoleTable(results)}\n\n`);
process.stdout.write(`total ${results.meta.totalSeconds} s on ${results.meta.cpus} CPUs (load average ${results.meta.loadAverageAtStart.join(', ')} at start); wrote ${out}\n`);
if (process.argv.includes('--readme')) {
  writeReadmeSection(join(benchDir, '..', 'README.md'), results);
  process.stdout.write('updated the Performance section of README.md\n');
}
const missing = only ? [] : requiredKeys.filter((k) => k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), results) === undefined);
if (missing.length > 0) process.stderr.write(`missing from results: ${missing.join(', ')}\n`);
process.exit(failed || missing.length > 0 ? 1 : 0);
