import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { outputOption, render, type OutputFormat } from '../output.js';

interface Identity {
  name: string;
  groups: string[];
}

export function registerWhoAmICommand(program: Command, io: CliIo): void {
  const whoAmI = program
    .command('who-am-i')
    .description('show the user and groups the active control plane sees you as')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const identity = await client.json<Identity>('GET', '/who-am-i');
      io.stdout(
        render(opts.output, {
          data: identity,
          rows: [identity],
          columns: [
            { header: 'name', value: (i) => i.name },
            { header: 'groups', value: (i) => i.groups.join(',') },
          ],
        }),
      );
    });
  withExamples(
    whoAmI,
    '# with the admin user token: mesh-system:admin in groups mesh-system:admin,mesh-system:authenticated\nmeshctl who-am-i',
  );
}
