import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { UsageError } from '../errors.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { collectPairs, parseKeyValues } from '../option-values.js';
import { parseResources, resourcePath, substituteVariables } from '../resource-file.js';

export function registerApplyCommand(program: Command, io: CliIo): void {
  const apply = program
    .command('apply')
    .description('create or update GlobalSecret and Secret resources from YAML or JSON')
    .requiredOption('-f, --file <path>', 'file with one or more resources, or - for stdin')
    .option('--var <key=value>', 'value for {{ key }} in the file (repeatable)', collectPairs, [])
    .action(async (opts: { file: string; var: string[] }, cmd: Command) => {
      const source = opts.file === '-' ? 'stdin' : opts.file;
      const text = opts.file === '-' ? await io.readStdin() : await readSource(opts.file);
      const resources = parseResources(substituteVariables(text, parseKeyValues(opts.var, '--var'), source), source);
      const { client } = await openSession(cmd, io);
      for (const resource of resources) {
        const res = await client.call('PUT', resourcePath(resource), { body: resource });
        const where = resource.type === 'Secret' ? ` in mesh "${resource.mesh}"` : '';
        io.stdout(`${resource.type} "${resource.name}"${where} ${res.status === 201 ? 'created' : 'updated'}\n`);
      }
    });
  withExamples(
    apply,
    '# revoke tokens: a comma-separated list of token IDs (jti) in the user-token-revocations global secret\n' +
      'echo "\ntype: GlobalSecret\nname: user-token-revocations\ndata: {{ revocations }}\n" | \\\n' +
      '  meshctl apply --var revocations=$(printf %s bf3d0b2e-d840-4cb6-bf7c-b90f54391468 | base64) -f -',
    'meshctl apply -f secret.yaml',
  );
}

async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}
