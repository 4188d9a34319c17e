#!/usr/bin/env node
// `pnpm demo`: one global and two zone control planes on this machine, and the docs' story
// (admin token, user tokens, dataplane bootstrap, revocation, key rotation) walked across them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DocsCurl } from './demo/docs-curl.mjs';
import { keepInstructions } from './demo/keep-instructions.mjs';
import { StepRunner } from './demo/step-runner.mjs';
import { addDataplaneSteps } from './demo/story-dataplane.mjs';
import { addMeshctlSteps } from './demo/story-meshctl.mjs';
import { addPlaneSteps } from './demo/story-planes.mjs';
import { addRevocationSteps } from './demo/story-revocation.mjs';
import { addRotationSteps } from './demo/story-rotation.mjs';
import { addUserTokenSteps } from './demo/story-user-tokens.mjs';
import { Topology } from './demo/topology.mjs';
import { handleEveryExit } from './lib/exit-handling.mjs';

const usage = `usage: pnpm demo [--keep]

Starts a global control plane and two zones (zone-1 syncs public keys, zone-2 private keys) on
free loopback ports, walks through the docs' workflows and checks every result.
  --keep   leave the control planes running afterwards and print how to reach them
`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--keep');
if (unknown.length > 0) {
  process.stderr.write(`demo: unknown argument ${unknown[0]}\n${usage}`);
  process.exit(2);
}
const keep = args.includes('--keep');

const workDir = mkdtempSync(join(tmpdir(), 'meshauth-demo-'));
const topology = new Topology({ repoRoot, workDir, keep });
const demo = { repoRoot, workDir, keep, topology, curl: new DocsCurl(), zoneTokens: new Map(), meshctlConfig: join(workDir, 'meshctl.yaml') };

// Every way out stops what was started, --keep or not (the run did not finish): Ctrl-C, SIGTERM,
// SIGHUP, stdout closing under `pnpm demo | head` (EPIPE), an exception.
const exit = handleEveryExit({ name: 'demo', workDir, stopAll: () => topology.stopAll({ removeFiles: true }) });
const { write, endWith } = exit;

write(`meshauth demo: one global, two zones; files in ${workDir}\n`);
// Once the run is ending (a signal, EPIPE), a step failing because its planes are going is not news.
const runner = new StepRunner({ write: (text) => exit.ending === undefined && write(text) });
addPlaneSteps(runner, demo);
addUserTokenSteps(runner, demo);
addDataplaneSteps(runner, demo);
addRevocationSteps(runner, demo);
addRotationSteps(runner, demo);
addMeshctlSteps(runner, demo);

let result;
try {
  result = await runner.runAll();
} catch (error) {
  result = { ok: false, error };
  write(`demo: ${error instanceof Error ? error.stack : String(error)}\n`);
}
if (exit.ending) await exit.ending; // a signal or EPIPE is ending the run; its handler exits

if (!result.ok) {
  for (const p of topology.processes) write(`\n--- last lines of ${p.label}'s log ---\n${p.tail()}\n`);
}
if (keep && topology.global?.ready) {
  write(keepInstructions(demo));
  process.exit(result.ok ? 0 : 1);
}
await endWith(result.ok ? 0 : 1);
