import { CommanderError } from 'commander';
import { formatError, MeshctlError } from './errors.js';
import type { CliIo } from './io.js';
import { createProgram } from './program.js';

/** Runs meshctl with `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    // commander has already printed its own message (or the help / version).
    if (err instanceof CommanderError) return err.exitCode;
    const verbose = program.opts()['verbose'] === true || argv.includes('--verbose');
    io.stderr(formatError(err, verbose));
    return err instanceof MeshctlError ? err.exitCode : 1;
  }
}
