import type { Command } from 'commander';

/** Appends an "Examples:" section to a command's --help. */
export function withExamples(cmd: Command, ...examples: string[]): Command {
  const body = examples.map((example) => example.replace(/^/gm, '  ')).join('\n\n');
  return cmd.addHelpText('after', `\nExamples:\n${body}\n`);
}
