import { execFile } from 'node:child_process';

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command line through bash, as an operator would type it (pipes, quotes and all). */
export function bash(script: string, options: { timeoutMs?: number } = {}): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
