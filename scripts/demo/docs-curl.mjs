import { execFile, execFileSync } from 'node:child_process';

/**
 * Runs the docs' curl commands verbatim through bash when curl, jq and base64 are installed, so a
 * reader sees the commands work as printed; otherwise the same request goes through fetch.
 * Tokens travel as environment variables, never inside the command line.
 */
export class DocsCurl {
  constructor() {
    this.available = ['curl', 'jq', 'base64'].every((tool) => {
      try {
        execFileSync('bash', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    });
  }

  /** Resolves with stdout; rejects with stderr when the command fails. */
  run(command, env = {}) {
    return new Promise((resolve, reject) => {
      execFile('bash', ['-o', 'pipefail', '-c', command], { env: { ...process.env, ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`\`${command}\` failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    });
  }
}
