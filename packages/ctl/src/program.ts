import { Command } from 'commander';
import { registerApplyCommand } from './commands/apply.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerConfigCommands } from './commands/config.js';
import { registerDeleteCommands } from './commands/delete.js';
import { registerGenerateCommands } from './commands/generate.js';
import { registerGetCommands } from './commands/get.js';
import { registerInspectCommands } from './commands/inspect.js';
import { registerRevokeCommands } from './commands/revoke.js';
import { registerRotateCommands } from './commands/rotate.js';
import { registerWhoAmICommand } from './commands/who-am-i.js';
import { withExamples } from './help-examples.js';
import type { CliIo } from './io.js';
import { meshctlVersion } from './version.js';

/**
 * The whole command tree. Settings on the root (output, exitOverride) are set before any
 * subcommand is added, because commander copies them into subcommands at creation.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('meshctl')
    .description('command-line client for meshauth control planes (global and zone)')
    .version(meshctlVersion(), '-V, --version', 'print the meshctl version')
    .option('--config-file <path>', 'meshctl config file (default $MESHCTL_CONFIG, else ~/.meshctl/config.yaml)')
    .option('--verbose', 'print stack traces with errors')
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'Error: ')),
    })
    .exitOverride();

  registerConfigCommands(program, io);
  registerGenerateCommands(program, io);
  registerRotateCommands(program, io);
  registerRevokeCommands(program, io);
  registerInspectCommands(program, io);
  registerGetCommands(program, io);
  registerDeleteCommands(program, io);
  registerApplyCommand(program, io);
  registerWhoAmICommand(program, io);
  registerCompletionCommand(program, io);

  withExamples(
    program,
    'meshctl config control-planes add --name=my-cp --address=http://localhost:5681 \\\n' +
      '  --auth-type=tokens --auth-conf token=eyJhbGc...',
    'meshctl generate user-token --name john --group team-a --valid-for 24h',
  );
  return program;
}
