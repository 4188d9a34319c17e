import { Argument, type Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion-script.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';

export function registerCompletionCommand(program: Command, io: CliIo): void {
  const completion = program
    .command('completion')
    .description('print a shell completion script (bash or zsh)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      io.stdout(shell === 'bash' ? bashCompletion(program) : zshCompletion(program));
    });
  withExamples(
    completion,
    '# this shell only\nsource <(meshctl completion bash)',
    '# every new bash\nmeshctl completion bash > /etc/bash_completion.d/meshctl',
    '# zsh\nmeshctl completion zsh > "${fpath[1]}/_meshctl"',
  );
}
