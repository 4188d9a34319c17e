import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from './wait-until.mjs';

/**
 * One control plane run as a real child process: `node [its nodeArgs] packages/<pkg>/dist/main.js`. Its log goes
 * to a file rather than a pipe, so that with `--keep` it outlives the demo without writing into a
 * closed pipe, and so that the log is there to read when a step fails.
 */
export class DaemonProcess {
  /**
   * @param {{ kind: 'global-cp' | 'zone-cp', label: string, repoRoot: string, workDir: string,
   *           env: Record<string, string>, detached: boolean }} options
   */
  constructor(options) {
    this.kind = options.kind;
    this.label = options.label;
    this.logFile = join(options.workDir, `${options.label}.log`);
    const script = join(options.repoRoot, 'packages', options.kind, 'dist', 'main.js');
    // With the node arguments its package declares (`meshauth.nodeArgs`), as every launcher passes them.
    const manifest = JSON.parse(readFileSync(join(options.repoRoot, 'packages', options.kind, 'package.json'), 'utf8'));
    if (!existsSync(script)) throw new Error(`${script} is missing; run \`pnpm build\` first (\`pnpm demo\` does)`);
    const log = openSync(this.logFile, 'a', 0o600);
    try {
      this.child = spawn(process.execPath, [...(manifest.meshauth?.nodeArgs ?? []), script], {
        cwd: options.workDir,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
        stdio: ['ignore', log, log],
        // A kept plane lives in its own process group: a later Ctrl-C in the same terminal is not for it.
        detached: options.detached,
      });
    } finally {
      closeSync(log);
    }
    if (options.detached) this.child.unref();
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal)));
    this.exitedWith = undefined;
    void this.exited.then((status) => (this.exitedWith = status));
    /** Fields of the ready line once seen: httpPort, httpsPort, syncPort (global), dpServerPort (zone). */
    this.ready = undefined;
  }

  get pid() {
    return this.child.pid;
  }

  get running() {
    return this.exitedWith === undefined;
  }

  /** Every JSON line of the log so far. */
  logLines() {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      return [];
    }
    const out = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a line still being written
      }
    }
    return out;
  }

  /** The last lines of the log, for a failure message. */
  tail(count = 15) {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-count).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Waits for `<kind> ready` and returns its fields; fails early, with the log, if the process exits. */
  async waitUntilReady(timeoutMs = 60_000) {
    const wanted = `${this.kind} ready`;
    this.ready = await waitUntil(
      () => {
        if (!this.running) throw new Error(`${this.label} exited with ${this.exitedWith} before it was ready:\n${this.tail()}`);
        return this.logLines().find((line) => line.msg === wanted);
      },
      { timeoutMs, intervalMs: 50, what: `${this.label} to log "${wanted}" (log: ${this.logFile})` },
    );
    return this.ready;
  }

  /** SIGTERM, then SIGKILL if it has not stopped within `graceMs`. */
  async stop(graceMs = 10_000) {
    if (!this.running) return this.exitedWith;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
