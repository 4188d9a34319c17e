import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { outputOption, render, type OutputFormat } from '../output.js';
import type { GlobalSecretResource, SecretResource } from '../resource-file.js';
import { registerRecordCommands } from './get-records.js';

const enc = encodeURIComponent;

/** `get` for GlobalSecrets, and for the mesh-scoped Secrets that `apply` also writes. */
export function registerGetCommands(program: Command, io: CliIo): void {
  const get = program.command('get').description('show resources');
  withExamples(get, 'meshctl get global-secrets');

  const list = get
    .command('global-secrets')
    .description('list global secrets (signing keys appear as user-token-signing-key-{serial})')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const data = await client.json<{ total: number; items: GlobalSecretResource[] }>('GET', '/global-secrets');
      io.stdout(render(opts.output, { data, rows: data.items, columns: globalColumns }));
    });
  withExamples(list, 'meshctl get global-secrets', 'meshctl get global-secrets -o yaml');

  const one = get
    .command('global-secret')
    .description('show one global secret (-o json|yaml includes its data)')
    .argument('<name>', 'name of the global secret')
    .addOption(outputOption())
    .action(async (name: string, opts: { output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const secret = await client.json<GlobalSecretResource>('GET', `/global-secrets/${enc(name)}`);
      io.stdout(render(opts.output, { data: secret, rows: [secret], columns: globalColumns }));
    });
  withExamples(
    one,
    '# the admin user token created on the first start of the control plane\n' +
      'meshctl get global-secret admin-user-token -o json | jq -r .data | base64 -d',
  );

  const meshList = get
    .command('secrets')
    .description('list the secrets of a mesh')
    .option('-m, --mesh <mesh>', 'mesh', 'default')
    .addOption(outputOption())
    .action(async (opts: { mesh: string; output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const data = await client.json<{ total: number; items: SecretResource[] }>('GET', `/meshes/${enc(opts.mesh)}/secrets`);
      io.stdout(render(opts.output, { data, rows: data.items, columns: meshColumns }));
    });
  withExamples(meshList, 'meshctl get secrets --mesh default');

  const meshOne = get
    .command('secret')
    .description('show one secret of a mesh (-o json|yaml includes its data)')
    .argument('<name>', 'name of the secret')
    .option('-m, --mesh <mesh>', 'mesh', 'default')
    .addOption(outputOption())
    .action(async (name: string, opts: { mesh: string; output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const secret = await client.json<SecretResource>('GET', `/meshes/${enc(opts.mesh)}/secrets/${enc(name)}`);
      io.stdout(render(opts.output, { data: secret, rows: [secret], columns: meshColumns }));
    });
  withExamples(meshOne, 'meshctl get secret sample-secret --mesh default -o yaml');

  registerRecordCommands(get, io);
}

const globalColumns = [
  { header: 'name', value: (s: GlobalSecretResource) => s.name },
  { header: 'type', value: (s: GlobalSecretResource) => s.type },
];

const meshColumns = [
  { header: 'mesh', value: (s: SecretResource) => s.mesh },
  { header: 'name', value: (s: SecretResource) => s.name },
  { header: 'type', value: (s: SecretResource) => s.type },
];
