import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const binaries = {
  'global-cp': join(repoRoot, 'packages/global-cp/dist/main.js'),
  'zone-cp': join(repoRoot, 'packages/zone-cp/dist/main.js'),
  meshctl: join(repoRoot, 'packages/ctl/dist/main.js'),
} as const;

/**
 * The node arguments a daemon's package declares (`meshauth.nodeArgs` in its package.json), which
 * every way of starting it passes: the tests run the planes as they are deployed.
 */
export function nodeArgsOf(kind: 'global-cp' | 'zone-cp'): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', kind, 'package.json'), 'utf8')) as { meshauth?: { nodeArgs?: string[] } };
  return manifest.meshauth?.nodeArgs ?? [];
}

export interface Daemon {
  kind: 'global-cp' | 'zone-cp';
  process: ChildProcess;
  /** Fields of the ready line: httpPort, httpsPort, diagnosticsPort, syncPort (global), dpServerPort (zone). */
  ready: Record<string, unknown>;
  httpPort: number;
  url: string;
  /** Every line the daemon printed so far (stdout and stderr). */
  output: string[];
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Resolves with the first parsed log line that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const running = new Set<Daemon>();

/**
 * What a test daemon runs with: a clean environment, every listener on 127.0.0.1 and port 0,
 * then the test's own settings.
 */
export function daemonEnv(kind: 'global-cp' | 'zone-cp', env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    MESHAUTH_API_SERVER_HTTP_INTERFACE: '127.0.0.1',
    MESHAUTH_API_SERVER_HTTPS_INTERFACE: '127.0.0.1',
    MESHAUTH_API_SERVER_HTTP_PORT: '0',
    MESHAUTH_API_SERVER_HTTPS_PORT: '0',
    MESHAUTH_DIAGNOSTICS_SERVER_PORT: '0',
    MESHAUTH_DIAGNOSTICS_SERVER_INTERFACE: '127.0.0.1',
    ...(kind === 'global-cp'
      ? { MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: '0', MESHAUTH_MULTIZONE_GLOBAL_SYNC_INTERFACE: '127.0.0.1' }
      : { MESHAUTH_DP_SERVER_PORT: '0', MESHAUTH_DP_SERVER_INTERFACE: '127.0.0.1' }),
    ...env,
  };
}

/**
 * Starts a real daemon on free loopback ports (port 0 everywhere unless env says otherwise) and
 * resolves once it logs its ready line. `stopAll` in an afterAll/afterEach stops what a test started.
 */
export async function startDaemon(
  kind: 'global-cp' | 'zone-cp',
  env: Record<string, string>,
  options: { timeoutMs?: number; /** Command-line arguments, e.g. ['--config', file]. */ args?: string[]; /** Another build of the daemon's main.js. */ script?: string } = {},
): Promise<Daemon> {
  const child = spawn(process.execPath, [...nodeArgsOf(kind), options.script ?? binaries[kind], ...(options.args ?? [])], {
    env: daemonEnv(kind, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const onLine = (line: string) => {
    output.push(line);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const w of [...waiters]) {
      if (w.match(parsed)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(parsed);
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      for (const line of output) {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (match(parsed)) return resolve(parsed);
        } catch {
          /* not JSON */
        }
      }
      const timer = setTimeout(() => reject(new Error(`${kind}: no matching log line within ${timeoutMs} ms; output:\n${output.join('\n')}`)), timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${kind} exited with ${code} before the expected log line; output:\n${output.join('\n')}`));
      });
    });

  const daemon: Daemon = {
    kind,
    process: child,
    ready: {},
    httpPort: 0,
    url: '',
    output,
    waitForLog,
    async stop() {
      running.delete(daemon);
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      // A daemon stuck in shutdown must not outlive the test: SIGKILL after 10 s.
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(force);
      return code;
    },
    async kill() {
      running.delete(daemon);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(daemon);
  try {
    daemon.ready = await waitForLog((l) => typeof l.msg === 'string' && l.msg === `${kind} ready`, options.timeoutMs ?? 60_000);
  } catch (error) {
    await daemon.kill();
    throw error;
  }
  daemon.httpPort = daemon.ready.httpPort as number;
  daemon.url = `http://127.0.0.1:${daemon.httpPort}`;
  return daemon;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

/** A temporary folder for store files; removed by the returned function. */
export function tempDir(prefix = 'meshauth-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
