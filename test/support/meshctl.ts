import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { binaries } from './daemon.js';

export interface MeshctlRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Meshctl {
  /** The config file every run uses (MESHCTL_CONFIG). */
  configPath: string;
  /** Runs the built meshctl binary with these arguments; any exit code comes back. */
  run(args: readonly string[], options?: { stdin?: string; env?: Record<string, string> }): Promise<MeshctlRun>;
  /** Like run, but the command must exit 0 with nothing on stderr. */
  ok(...args: string[]): Promise<MeshctlRun>;
  /**
   * Runs a bash script in which `meshctl` is the built binary, so pipelines read as an operator
   * types them (`meshctl generate user-token … | meshctl inspect token -`). pipefail is on.
   */
  shell(script: string, options?: { env?: Record<string, string> }): Promise<MeshctlRun>;
}

/** A meshctl whose config (and HOME) live in `dir`, so tests never touch the user's ~/.meshctl. */
export function createMeshctl(dir: string): Meshctl {
  const configPath = join(dir, 'meshctl', 'config.yaml');
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: dir, MESHCTL_CONFIG: configPath, MESHCTL_BIN: binaries.meshctl };
  const run: Meshctl['run'] = (args, options = {}) =>
    spawnCollect(process.execPath, [binaries.meshctl, ...args], { ...baseEnv, ...options.env }, options.stdin);
  return {
    configPath,
    run,
    async ok(...args) {
      const result = await run(args);
      expect(result, `meshctl ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' });
      return result;
    },
    shell: (script, options = {}) =>
      spawnCollect('bash', ['-c', `set -o pipefail\nmeshctl() { node "$MESHCTL_BIN" "$@"; }\n${script}`], { ...baseEnv, ...options.env }),
  };
}

function spawnCollect(command: string, args: string[], env: Record<string, string>, stdin?: string): Promise<MeshctlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // A hung command must not hang the suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** The payload of a compact JWT, decoded without checking anything. */
export function jwtPayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.trim().split('.')[1] ?? '', 'base64url').toString('utf8'));
}

export function jwtHeader(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.trim().split('.')[0] ?? '', 'base64url').toString('utf8'));
}

/** A stack frame line, which must never reach a user who did not ask for --verbose. */
export const stackFrame = /^\s+at .+/m;
