import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';

const enc = encodeURIComponent;

/** `delete` for GlobalSecrets and mesh-scoped Secrets. */
export function registerDeleteCommands(program: Command, io: CliIo): void {
  const del = program.command('delete').description('delete resources');
  withExamples(del, '# remove the old signing key after a rotation\nmeshctl delete global-secret user-token-signing-key-1');

  const remove = del
    .command('global-secret')
    .description('delete a global secret')
    .argument('<name>', 'name of the global secret')
    .option('--force', 'also delete the user-token signing key that signs, or the last one (locks every user out)')
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      await client.call('DELETE', `/global-secrets/${enc(name)}${opts.force ? '?force=true' : ''}`);
      io.stdout(`deleted GlobalSecret "${name}"\n`);
    });
  withExamples(
    remove,
    '# remove the old signing key after a rotation\nmeshctl delete global-secret user-token-signing-key-1',
    '# remove the default admin user token\nmeshctl delete global-secret admin-user-token',
  );

  const meshRemove = del
    .command('secret')
    .description('delete a secret of a mesh')
    .argument('<name>', 'name of the secret')
    .option('-m, --mesh <mesh>', 'mesh', 'default')
    .action(async (name: string, opts: { mesh: string }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      await client.call('DELETE', `/meshes/${enc(opts.mesh)}/secrets/${enc(name)}`);
      io.stdout(`deleted Secret "${name}" in mesh "${opts.mesh}"\n`);
    });
  withExamples(meshRemove, 'meshctl delete secret sample-secret --mesh default');
}
