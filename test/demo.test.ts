/**
 * `pnpm demo` end to end: the real script, with real planes. It must report every step OK, exit 0
 * and leave no process or file behind; `--keep` must leave reachable planes; an interrupt must
 * still stop everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from './support/daemon.js';
import { waitFor } from './support/wait-for.js';
// @ts-expect-error plain ESM script without type declarations
import { StepRunner } from '../scripts/demo/step-runner.mjs';

interface DemoRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const started: DemoRun[] = [];
const keptPids: number[] = [];
const keptDirs: string[] = [];

function runDemo(args: string[] = [], env: NodeJS.ProcessEnv = process.env): DemoRun {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts/demo.mjs'), ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const run = { child, output: () => text, exited };
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

/** Every pid the demo printed for the planes it started. */
const pidsIn = (output: string) => [...new Set([...output.matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1])))];
const workDirIn = (output: string) => /files in (\S+)/.exec(output)?.[1];

afterEach(async () => {
  for (const run of started.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }
  for (const pid of keptPids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of keptDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the demo step runner', () => {
  it('stops at the first failing step and names it', async () => {
    let text = '';
    const ran: number[] = [];
    const runner = new StepRunner({ write: (t: string) => (text += t) });
    runner.add('first', async () => void ran.push(1));
    runner.add('second', async (say: (line: string) => void) => {
      say('about to fail');
      throw new Error('zone-1 still accepts the token');
    });
    runner.add('third', async () => void ran.push(3));
    const result = await runner.runAll();
    expect(result).toMatchObject({ ok: false, step: 2, title: 'second' });
    expect(ran).toEqual([1]);
    expect(text).toMatch(/^OK {3}1\. first/m);
    expect(text).toContain('     about to fail\n');
    expect(text).toContain('FAIL 2. second: zone-1 still accepts the token\n');
    expect(text).toContain('demo: FAILED at step 2 "second"');
    expect(text).not.toContain('third');
  });
});

describe('pnpm demo', () => {
  it('walks the whole story with every step OK, exits 0 and stops everything it started', async () => {
    const run = runDemo();
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(0);

    const total = Number(/\[1\/(\d+)\]/.exec(output)?.[1]);
    expect(total).toBeGreaterThanOrEqual(10);
    for (let n = 1; n <= total; n++) expect(output, `step ${n}`).toMatch(new RegExp(`^OK {3}${n}\\. `, 'm'));
    expect(output).not.toMatch(/^FAIL /m);
    expect(output).toContain(`demo: ${total}/${total} steps OK`);
    // The story's own evidence, not just the verdicts.
    expect(output).toMatch(/zone-1 → 401 "[^"]*revoked[^"]*" after [\d.]+ ms/);
    expect(output).toMatch(/zone-2 → 401 "[^"]*revoked[^"]*" after [\d.]+ ms/);
    expect(output).toMatch(/zone-1 +kid-1 token → 401 "[^"]*rotated/);

    const pids = pidsIn(output);
    expect(pids.length).toBe(3);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    expect(existsSync(workDirIn(output)!)).toBe(false);
  }, 240_000);

  it('--keep leaves the planes reachable and says how to reach them (curl-less machine: fetch fallback)', async () => {
    // A PATH with bash but no curl or jq: the demo must say so and use fetch instead.
    const bin = mkdtempSync(join(tmpdir(), 'meshauth-demo-path-'));
    keptDirs.push(bin);
    symlinkSync('/bin/bash', join(bin, 'bash'));
    const run = runDemo(['--keep'], { ...process.env, PATH: bin });
    const code = await run.exited;
    const output = run.output();
    keptPids.push(...pidsIn(output));
    const workDir = workDirIn(output)!;
    keptDirs.push(workDir);
    expect(code, output).toBe(0);
    expect(output).toContain('same request through fetch');
    expect(output).toContain('The control planes keep running');

    for (const pid of pidsIn(output)) expect(isAlive(pid), `pid ${pid}`).toBe(true);
    const urls = [...output.matchAll(/^ {2}(global|zone-1|zone-2) +(http:\/\/127\.0\.0\.1:\d+) /gm)].map((m) => [m[1], m[2]] as const);
    expect(urls.map(([name]) => name)).toEqual(['global', 'zone-1', 'zone-2']);
    for (const [name, url] of urls) {
      const response = await fetch(`${url}/`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { plane: string; zone?: string };
      expect(body.plane).toBe(name === 'global' ? 'global' : 'zone');
    }
    const gui = /^ {2}status page +(http:\/\/127\.0\.0\.1:\d+\/gui) /m.exec(output);
    expect(gui?.[1]).toBe(`${urls[0]![1]}/gui`);
    expect((await fetch(gui![1]!)).headers.get('content-type')).toContain('text/html');
    expect(output).toMatch(new RegExp(`kill ${pidsIn(output).join(' ')} && rm -rf ${workDir}`));
  }, 240_000);

  it.each([
    ['its stdout closes (`pnpm demo | head`: EPIPE)', 141, (run: DemoRun) => run.child.stdout!.destroy()],
    ['it gets SIGHUP (its terminal closed)', 129, (run: DemoRun) => run.child.kill('SIGHUP')],
    ['it gets SIGTERM', 143, (run: DemoRun) => run.child.kill('SIGTERM')],
  ] as const)('stops every plane it started when %s', async (_what, exitCode, end) => {
    const run = runDemo();
    await waitFor('the zones to start', () => run.output().includes('[5/') || run.child.exitCode !== null);
    const pidsBefore = pidsIn(run.output());
    expect(pidsBefore.length, run.output()).toBe(3);
    const workDir = workDirIn(run.output())!;
    end(run);
    const code = await run.exited;
    expect(code, run.output()).toBe(exitCode);
    // What it stopped is said even when stdout is gone (then on stderr).
    for (const pid of pidsBefore) expect(run.output(), `pid ${pid} named as stopped`).toMatch(new RegExp(`^stopped .*\\(pid ${pid}\\)`, 'm'));
    for (const pid of pidsBefore) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    expect(existsSync(workDir)).toBe(false);
  }, 240_000);

  it('stops every plane it started when interrupted', async () => {
    const run = runDemo();
    await waitFor('the zones to start', () => run.output().includes('[5/') || run.child.exitCode !== null);
    const pidsBefore = pidsIn(run.output());
    expect(pidsBefore.length).toBe(3);
    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code, run.output()).toBe(130);
    for (const pid of pidsBefore) expect(isAlive(pid), `pid ${pid} still running`).toBe(false);
    expect(existsSync(workDirIn(run.output())!)).toBe(false);
  }, 240_000);
});
