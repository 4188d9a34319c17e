/**
 * `pnpm demo:ha` end to end: the real script, with real PostgreSQL servers (global's and the
 * zone's) and real planes. It must report every step OK with the story's evidence, exit 0 and
 * leave no process or file behind; a signal or a closed stdout must still stop everything it
 * started, both PostgreSQL servers included.
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

/** Every pid the demo printed: the PostgreSQL postmasters, the global and zone replicas. */
const pidsIn = (text: string) => [...new Set([...text.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1])))];
const workDirIn = (text: string) => /files in (\S+)/.exec(text)?.[1];
const pgDataDirsIn = (text: string) => [...text.matchAll(/data in (\S+),/g)].map((m) => m[1]!);

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

/** Nothing the run printed is running, and its folders (the work folder, at least `pgServers` PostgreSQL data folders) are gone. */
function expectNothingLeft(text: string, minimumPids: number, pgServers: number): void {
  const pids = pidsIn(text);
  expect(pids.length, text).toBeGreaterThanOrEqual(minimumPids);
  for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
  const pgDirs = pgDataDirsIn(text);
  expect(pgDirs, text).toHaveLength(pgServers);
  for (const dir of [workDirIn(text), ...pgDirs]) {
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
    expect(total).toBeGreaterThanOrEqual(16);
    for (let n = 1; n <= total; n++) expect(output, `step ${n}`).toMatch(new RegExp(`^OK {3}${n}\\. `, 'm'));
    expect(output).not.toMatch(/^FAIL /m);
    expect(output).toContain(`demo: ${total}/${total} steps OK`);

    // A real PostgreSQL 18, two replicas on it with instance ids of their own.
    expect(output).toMatch(/^ {5}PostgreSQL 18 pid \d+ on 127\.0\.0\.1:\d+, database meshauth$/m);
    // And a second server for the zone's replicas.
    expect(output).toMatch(/^ {5}PostgreSQL 18 pid \d+ on 127\.0\.0\.1:\d+, database zone$/m);
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
    for (const zone of ['zone-1a', 'zone-1b']) expect(output).toMatch(new RegExp(`^ {5}${zone} pid \\d+: HTTP \\d+, dp-server \\d+, store postgres://postgres@127\\.0\\.0\\.1:\\d+/zone$`, 'm'));

    // Exactly one zone replica leads and streams (from global-1, dialed first); the other stands by.
    const leader = /^ {5}(zone-1[ab]) → \{"leader":true,"instance":"([^"]+)","state":"connected"\}, appliedVersion \d+, stats \{snapshots: 1, deltas: 0, nacks: 0\}$/m.exec(output);
    const follower = /^ {5}(zone-1[ab]) → \{"leader":false,"instance":"([^"]+)","state":"standby"\}, appliedVersion \d+, stats \{snapshots: 0, deltas: 0, nacks: 0\}$/m.exec(output);
    expect(leader, 'the zone leader').not.toBeNull();
    expect(follower, 'the zone follower').not.toBeNull();
    const [zoneLeader, zoneFollower] = [leader![1]!, follower![1]!];
    expect(zoneLeader).not.toBe(zoneFollower);
    expect(leader![2]).not.toBe(follower![2]);
    expect(output).toContain(`${zoneLeader} streams from `);
    expect(output).toContain(`${zoneLeader} logged "leader: this replica now runs the sync stream to global and the periodic work (pruning)"; ${zoneFollower} did not`);
    for (const plane of ['global-2', 'zone-1a', 'zone-1b']) expect(output).toMatch(new RegExp(`^ {5}${plane} +→ 200 \\{"name":"john","groups":\\["team-a","mesh-system:authenticated"\\]\\}$`, 'm'));
    // A dataplane token of zone-1a bootstraps on zone-1b's dp-server.
    expect(output).toMatch(/^ {5}POST zone-1b dp-server \/bootstrap → 200 \{"mesh":"default","name":"dp-1",.*"zone":"zone-1"\}$/m);
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
    expect(output).toContain(`${zoneLeader} (the zone-1 leader) stats {snapshots: 1, deltas: 0, nacks: 0} → {snapshots: 1, deltas: 1, nacks: 0}`);
    for (const zone of ['zone-1a', 'zone-1b']) expect(output).toMatch(new RegExp(`^ {5}${zone} +→ 401 "[^"]*revoked[^"]*" after [\\d.]+ ms$`, 'm'));
    expect(output).toMatch(/global-2 logged "leader: this replica now runs the periodic work \(pruning\)"/);

    // The outage: verification from memory, a 503 naming the database, then writes again.
    for (const zone of ['zone-1a', 'zone-1b']) expect(output).toMatch(new RegExp(`${zone} +GET /who-am-i as jane → 200`));
    expect(output).toContain(`${zoneLeader} (the zone-1 leader): state connected, globalAddress`);
    expect(output).toMatch(/global-2 POST \/tokens\/user\/revocations → 503 after \d+ ms: .*PostgreSQL store postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth/);
    expect(output).toMatch(/global-2 POST \/tokens\/user\/revocations \(jane's jti\) → 201/);

    // The zone leader SIGKILLed: the follower takes over within the step's wait, resumes with no
    // snapshot, and a revocation made on global reaches it as a delta.
    const takeover = new RegExp(`^ {5}after (\\d+) ms: ${zoneFollower} → \\{"leader":true,"instance":"${follower![2]}","state":"connected"\\}, globalAddress \\S+ \\(global-2\\)$`, 'm').exec(output);
    expect(takeover, 'the takeover line').not.toBeNull();
    expect(output).toMatch(new RegExp(`^ {5}\\$ kill -9 \\d+ {3}# ${zoneLeader}: `, 'm'));
    expect(output).toMatch(new RegExp(`^ {5}${zoneFollower} stats \\{snapshots: 0, deltas: \\d+, nacks: 0\\}, appliedVersion \\d+: it resumed from the version ${zoneLeader} recorded, no snapshot$`, 'm'));
    expect(output).toMatch(new RegExp(`^ {5}${zoneFollower} +→ 401 "[^"]*revoked[^"]*" after [\\d.]+ ms$`, 'm'));
    const lastDelta = new RegExp(`^ {5}${zoneFollower} stats \\{snapshots: 0, deltas: (\\d+), nacks: 0\\} → \\{snapshots: 0, deltas: (\\d+), nacks: 0\\}`, 'm').exec(output);
    expect(lastDelta, 'the survivor stats line').not.toBeNull();
    expect(Number(lastDelta![2])).toBeGreaterThan(Number(lastDelta![1]));

    expect(output).toMatch(new RegExp(`^stopped ${zoneFollower} \\(pid \\d+\\), global-2 \\(pid \\d+\\), postgres \\(pid \\d+\\), postgres-zone \\(pid \\d+\\); removed `, 'm'));
    // Three postmasters (global's before and after the outage, the zone's), two global and two zone replicas.
    expectNothingLeft(output, 7, 2);
  }, 300_000);

  it('stops everything it started, PostgreSQL included, on SIGTERM', async () => {
    const run = runDemo();
    await waitFor('both zone replicas to start', () => run.stdout().includes('[6/') || run.child.exitCode !== null, 240_000);
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const output = run.stdout();
    expect(code, `${output}\n${run.stderr()}`).toBe(143);
    expect(output).toContain('demo:ha: SIGTERM, stopping everything it started');
    expect(output).not.toMatch(/^FAIL /m);
    // Both postmasters, two global and two zone replicas.
    expectNothingLeft(output, 6, 2);
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
    expectNothingLeft(text, 3, 1);
  }, 300_000);
});
