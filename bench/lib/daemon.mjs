import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const binaries = {
  'global-cp': join(repoRoot, 'packages/global-cp/dist/main.js'),
  'zone-cp': join(repoRoot, 'packages/zone-cp/dist/main.js'),
};

const started = new Set();

/**
 * The node arguments the daemon's package declares (`meshauth.nodeArgs`), as every launcher passes
 * them: the benchmarks measure the planes as they are deployed. BENCH_GLOBAL_NODE_ARGS /
 * BENCH_ZONE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") add to them, for profiling.
 */
function defaultNodeArgs(kind) {
  const declared = JSON.parse(readFileSync(join(repoRoot, 'packages', kind, 'package.json'), 'utf8')).meshauth?.nodeArgs ?? [];
  const extra = (process.env[kind === 'global-cp' ? 'BENCH_GLOBAL_NODE_ARGS' : 'BENCH_ZONE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  return [...declared, ...extra];
}

/**
 * Starts a built daemon on free loopback ports with its store in a fresh temp dir, and resolves
 * once it logs its ready line. Its log lines are parsed and kept only while someone waits for one,
 * so a daemon under load does not fill the benchmark's memory.
 */
export async function startDaemon(kind, env = {}, { timeoutMs = 120_000, nodeArgs = defaultNodeArgs(kind), beforeStart, dir: reuseDir, openFiles } = {}) {
  // `dir`: restart on the store (and files) a stopped daemon left behind with stop({ keepDir: true }).
  const dir = reuseDir ?? mkdtempSync(join(tmpdir(), `meshauth-bench-${kind}-`));
  const extraEnv = beforeStart ? beforeStart(dir) : {};
  // `openFiles`: the daemon's file-descriptor limit (one per connection it serves), raised by a sh
  // wrapper's `ulimit -n` that then execs node (same pid). It can only go up to the hard limit.
  const argv = [...nodeArgs, binaries[kind]];
  const [command, args] = openFiles === undefined ? [process.execPath, argv] : ['/bin/sh', ['-c', `ulimit -n ${openFilesUpTo(openFiles)} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      MESHAUTH_STORE_SQLITE_PATH: join(dir, `${kind}.db`),
      MESHAUTH_API_SERVER_HTTP_INTERFACE: '127.0.0.1',
      MESHAUTH_API_SERVER_HTTP_PORT: '0',
      MESHAUTH_API_SERVER_HTTPS_INTERFACE: '127.0.0.1',
      MESHAUTH_API_SERVER_HTTPS_PORT: '0',
      MESHAUTH_DIAGNOSTICS_SERVER_INTERFACE: '127.0.0.1',
      MESHAUTH_DIAGNOSTICS_SERVER_PORT: '0',
      ...(kind === 'global-cp'
        ? { MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT: '0', MESHAUTH_MULTIZONE_GLOBAL_SYNC_INTERFACE: '127.0.0.1' }
        : { MESHAUTH_DP_SERVER_PORT: '0', MESHAUTH_DP_SERVER_INTERFACE: '127.0.0.1' }),
      ...env,
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters = new Set();
  const tail = [];
  const onLine = (line) => {
    tail.push(line);
    if (tail.length > 50) tail.shift();
    if (waiters.size === 0) return;
    let parsed;
    try {
      parsed = JSON.parse(line);
    } catch {
      return;
    }
    for (const w of waiters) if (w.match(parsed)) w.resolve(parsed);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) !== -1) {
        onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

  const waitForLog = (match, waitMs = 60_000) =>
    new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (line) => {
          clearTimeout(timer);
          waiters.delete(w);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${kind}: no matching log line within ${waitMs} ms; last output:\n${tail.join('\n')}`));
      }, waitMs);
      waiters.add(w);
      void exited.then((code) => {
        if (!waiters.has(w)) return;
        clearTimeout(timer);
        waiters.delete(w);
        reject(new Error(`${kind} exited (${code}); last output:\n${tail.join('\n')}`));
      });
    });

  const daemon = {
    kind,
    dir,
    process: child,
    pid: child.pid,
    waitForLog,
    tail,
    rssMb: () => rssMb(child.pid),
    peakRssMb: () => rssMb(child.pid, 'VmHWM'),
    async stop({ keepDir = false } = {}) {
      started.delete(daemon);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(daemon);
  try {
    daemon.ready = await waitForLog((l) => l.msg === `${kind} ready`, timeoutMs);
  } catch (error) {
    await daemon.stop();
    throw error;
  }
  daemon.httpPort = daemon.ready.httpPort;
  daemon.syncPort = daemon.ready.syncPort;
  daemon.url = `http://127.0.0.1:${daemon.httpPort}`;
  return daemon;
}

/** `wanted` if the hard limit allows it; otherwise a clear error instead of a daemon failing at accept(). */
function openFilesUpTo(wanted) {
  const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  if (hard !== undefined && hard !== 'unlimited' && Number(hard) < wanted) {
    throw new Error(`this benchmark needs ${wanted} open files per process, but the hard limit is ${hard} (ulimit -Hn); raise it (e.g. in /etc/security/limits.conf or docker --ulimit nofile=${wanted})`);
  }
  return wanted;
}

export async function stopAllDaemons() {
  await Promise.all([...started].map((d) => d.stop()));
}

/** Resident set size of a process (or its peak: `VmHWM`), in MB, from /proc (Linux). */
export function rssMb(pid, field = 'VmRSS') {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1]);
  return Math.round((kb / 1024) * 10) / 10;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux, 100 Hz ticks). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
