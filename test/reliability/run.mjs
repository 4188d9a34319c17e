#!/usr/bin/env node
/**
 * Runs the reliability suite and ends with the one summary line operators read:
 *   faults survived N/N, bad inputs refused N/N, lost 0
 * Tests under faults/ count as faults; bad-input/ and security/ as bad inputs (hostile requests,
 * forged headers, secrets that must not leak). "lost" is what tests recorded in the ledger: items
 * whose write was acknowledged but were missing afterwards. A skipped test is "not done": in the
 * total, never counted as passed. Exits non-zero when anything failed or was lost.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'meshauth-reliability-'));
const resultsFile = join(work, 'results.json');
const ledgerFile = join(work, 'ledger.jsonl');

const vitest = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules/vitest/vitest.mjs'),
    'run',
    '--config',
    join(root, 'test/reliability/vitest.config.ts'),
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, MESHAUTH_RELIABILITY_LEDGER: ledgerFile } },
);

const categories = { faults: { passed: 0, total: 0 }, badInputs: { passed: 0, total: 0 } };
const notDone = [];
let failures = vitest.status === 0 ? 0 : 1;
if (existsSync(resultsFile)) {
  failures = 0;
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  for (const file of results.testResults) {
    const path = relative(root, file.name);
    const category = path.includes('/faults/') ? categories.faults : categories.badInputs;
    const failed = file.assertionResults.filter((t) => t.status === 'failed').length;
    // A file that failed outside any test (import error, beforeAll) still counts as one failure.
    if (file.status === 'failed' && failed === 0) {
      category.total += 1;
      failures += 1;
    }
    for (const test of file.assertionResults) {
      if (test.status === 'passed') {
        category.passed += 1;
        category.total += 1;
      } else if (test.status === 'failed') {
        category.total += 1;
        failures += 1;
      } else {
        // Skipped (a fault this machine cannot stage, e.g. no tmpfs without root): in the total,
        // never in the survivors, so "N/M" shows it.
        category.total += 1;
        notDone.push(`${path}: ${test.ancestorTitles.join(' > ') || test.title}`);
      }
    }
  }
}

let lost = 0;
if (existsSync(ledgerFile)) {
  for (const line of readFileSync(ledgerFile, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line);
    lost += entry.lost;
    if (entry.lost > 0) console.log(`lost ${entry.lost}: ${entry.what}`);
  }
}
rmSync(work, { recursive: true, force: true });

if (notDone.length > 0) {
  console.log(`not done (${notDone.length} tests skipped, counted as not survived):`);
  const groups = new Map();
  for (const name of notDone) groups.set(name, (groups.get(name) ?? 0) + 1);
  for (const [name, count] of groups) console.log(`  - ${name} (${count})`);
}
const { faults, badInputs } = categories;
console.log(`faults survived ${faults.passed}/${faults.total}, bad inputs refused ${badInputs.passed}/${badInputs.total}, lost ${lost}`);
process.exit(failures > 0 || lost > 0 ? 1 : 0);
