/**
 * `pnpm demo:ha` end to end: the real script, with a real PostgreSQL and real planes. It must
 * report every step OK with the story's evidence, exit 0 and leave no process or file behind; a
 * signal or a closed stdout must still stop everything it started, PostgreSQL included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './support/daemon.js';
import { waitFor } from './support/wait-for.js';

interface DemoRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const started: DemoRun[] = [];

function runDemo(): DemoRun {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/demo-ha.mjs')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const run = { child, stdout: () => out, stderr: () => err, exited };
  started.push(run);
  return run;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every pid the demo printed: PostgreSQL's postmasters, the replicas, the zone. */
const pidsIn = (text: string) => [...new Set([...text.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1])))];
const workDirIn = (text: string) => /files in (\S+)/.exec(text)?.[1];
const pgDataDirIn = (text: string) => /data in (\S+),/.exec(text)?.[1];

/** Processes still running in `dir` or naming it on their command line (a postgres -D <dir>). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${entry}: ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Nothing the run printed is running, and its folders (the work folder, PostgreSQL's data) are gone. */
function expectNothingLeft(text: string, minimumPids: number): void {
  const pids = pidsIn(text);
  expect(pids.length, text).toBeGreaterThanOrEqual(minimumPids);
  for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
  for (const dir of [workDirIn(text), pgDataDirIn(text)]) {
    expect(dir, text).toBeDefined();
    expect(processesUsing(dir!), `processes using ${dir}`).toEqual([]);
    expect(existsSync(dir!), `${dir} left behind`).toBe(false);
  }
}

afterEach(async () => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }
});

describe('pnpm demo:ha', () => {
  it('walks the HA story with every step OK, exits 0 and stops everything it started, PostgreSQL included', async () => {
    const run = runDemo();
    const code = await run.exited;
    const output = run.stdout();
    expect(code, `${output}\n${run.stderr()}`).toBe(0);

    const total = Number(/\[1\/(\d+)\]/.exec(output)?.[1]);
    expect(total).toBeGreaterThanOrEqual(10);
    for (let n = 1; n <= total; n++) expect(output, `step ${n}`).toMatch(new RegExp(`^OK {3}${n}\\. `, 'm'));
    expect(output).not.toMatch(/^FAIL /m);
    expect(output).toContain(`demo: ${total}/${total} steps OK`);

    // A real PostgreSQL 18, two replicas on it with instance ids of their own.
    expect(output).toMatch(/^ {5}PostgreSQL 18 pid \d+ on 127\.0\.0\.1:\d+, database meshauth$/m);
    const instances = ['global-1', 'global-2'].map((label) => {
      const root = new RegExp(`^ {5}${label} → \\{"plane":"global","instance":"([^"]+)","store":"postgres"\\}$`, 'm').exec(output);
      expect(root, `${label}'s GET /`).not.toBeNull();
      return root![1]!;
    });
    expect(instances[0]).not.toBe(instances[1]);
    expect(output).toMatch(/store postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth/);
    expect(output).not.toContain('meshauth-test-password');

    // The zone lists both replicas; a token issued on global-1 works on global-2 and on the zone.
    expect(output).toMatch(/MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS=grpc:\/\/127\.0\.0\.1:\d+,grpc:\/\/127\.0\.0\.1:\d+$/m);
    for (const plane of ['global-2', 'zone-1']) expect(output).toMatch(new RegExp(`^ {5}${plane} +→ 200 \\{"name":"john","groups":\\["team-a","mesh-system:authenticated"\\]\\}$`, 'm'));
    // Listed once on each replica, with the instance holding the stream (the zone dials global-1 first).
    for (const label of ['global-1', 'global-2']) {
      expect(output).toMatch(new RegExp(`^ {5}${label} GET /zones → 1 item for zone-1: connected, mode public, globalInstance ${instances[0]} \\(global-1\\)`, 'm'));
    }

    // Failover: a new globalAddress, the survivor's instance, no second snapshot; the revocation as a delta.
    const failover = /globalAddress (grpc:\/\/\S+) → (grpc:\/\/\S+) \(global-2\), state connected/.exec(output);
    expect(failover, 'the failover line').not.toBeNull();
    expect(failover![1]).not.toBe(failover![2]);
    expect(output).toMatch(new RegExp(`global-2 GET /zones → zone-1 connected, globalInstance ${instances[1]} \\(global-2\\)`));
    expect(output).toContain('no "sync: sending snapshot"');
    expect(output).toMatch(/zone-1 stats \{snapshots: 1, deltas: 0, nacks: 0\} → \{snapshots: 1, deltas: 1, nacks: 0\}/);
    expect(output).toMatch(/^ {5}zone-1 +→ 401 "[^"]*revoked[^"]*" after [\d.]+ ms$/m);
    expect(output).toMatch(/global-2 logged "leader: this replica now runs the periodic work \(pruning\)"/);

    // The outage: verification from memory, a 503 naming the database, then writes again.
    expect(output).toMatch(/zone-1 +GET \/who-am-i as jane → 200/);
    expect(output).toMatch(/global-2 POST \/tokens\/user\/revocations → 503 after \d+ ms: .*PostgreSQL store postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth/);
    expect(output).toMatch(/global-2 POST \/tokens\/user\/revocations \(jane's jti\) → 201/);

    expect(output).toMatch(/^stopped zone-1 \(pid \d+\), global-2 \(pid \d+\), postgres \(pid \d+\); removed /m);
    // Two postmasters (before and after the outage), two replicas, the zone.
    expectNothingLeft(output, 5);
  }, 300_000);

  it('stops everything it started, PostgreSQL included, on SIGTERM', async () => {
    const run = runDemo();
    await waitFor('the zone to start', () => run.stdout().includes('[5/') || run.child.exitCode !== null, 240_000);
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const output = run.stdout();
    expect(code, `${output}\n${run.stderr()}`).toBe(143);
    expect(output).toContain('demo:ha: SIGTERM, stopping everything it started');
    expect(output).not.toMatch(/^FAIL /m);
    expectNothingLeft(output, 4);
  }, 300_000);

  it('stops everything it started when its stdout closes (EPIPE)', async () => {
    const run = runDemo();
    await waitFor('the replicas to start', () => run.stdout().includes('[3/') || run.child.exitCode !== null, 240_000);
    const before = run.stdout();
    run.child.stdout!.destroy();
    const code = await run.exited;
    const text = `${before}\n${run.stderr()}`;
    expect(code, text).toBe(141);
    expect(run.stderr()).toMatch(/stdout closed \(EPIPE\), stopping everything it started/);
    expect(run.stderr()).toMatch(/^stopped .*postgres \(pid \d+\); removed /m);
    expectNothingLeft(text, 3);
  }, 300_000);
});
