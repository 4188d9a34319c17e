import { Option, type Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { UsageError } from '../errors.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { collectList, collectPairs, parseTags } from '../option-values.js';
import { generateSigningKey, SIGNING_KEY_FORMATS, type SigningKeyFormat } from '../signing-key.js';
import { writeCertificateFiles } from '../tls-certificate-files.js';

export function registerGenerateCommands(program: Command, io: CliIo): void {
  const generate = program.command('generate').description('generate tokens, signing keys and certificates');
  withExamples(
    generate,
    'meshctl generate user-token --name john --group team-a --valid-for 24h',
    'meshctl generate tls-certificate --type=client --cert-file=/tmp/tls.crt --key-file=/tmp/tls.key',
  );

  /** Token commands print only the token and a newline, so they pipe. */
  const issue = async (cmd: Command, path: string, body: object) => {
    const { client } = await openSession(cmd, io);
    const token = (await client.text('POST', path, { body })).trim();
    io.stdout(`${token}\n`);
  };

  const userToken = generate
    .command('user-token')
    .description('generate a user token (prints only the token)')
    .requiredOption('--name <name>', 'name of the user')
    .option('--group <group>', 'group the user belongs to (repeatable)', collectList, [])
    .requiredOption('--valid-for <duration>', 'how long the token is valid, e.g. 24h, 1h30m')
    .action(async (opts: { name: string; group: string[]; validFor: string }, cmd: Command) => {
      await issue(cmd, '/tokens/user', { name: opts.name, groups: opts.group, validFor: opts.validFor });
    });
  withExamples(
    userToken,
    'meshctl generate user-token \\\n  --name john \\\n  --group team-a \\\n  --valid-for 24h',
    '# decode it, as the docs do with | jwt\n' +
      'meshctl generate user-token --name=john --group=team-a --valid-for=24h | meshctl inspect token -',
  );

  const zoneToken = generate
    .command('zone-token')
    .description('generate a token a zone control plane uses to connect to global (prints only the token)')
    .requiredOption('--zone <name>', 'name of the zone')
    .option('--scope <scope>', 'what the token may identify: cp, ingress, egress (repeatable; default cp)', collectList)
    .requiredOption('--valid-for <duration>', 'how long the token is valid, e.g. 720h')
    .action(async (opts: { zone: string; scope?: string[]; validFor: string }, cmd: Command) => {
      const scope = opts.scope ?? ['cp'];
      const unknown = scope.filter((s) => !['cp', 'ingress', 'egress'].includes(s));
      if (unknown.length > 0) throw new UsageError(`--scope ${unknown.join(',')}: expected cp, ingress or egress`);
      await issue(cmd, '/tokens/zone', { zone: opts.zone, scope, validFor: opts.validFor });
    });
  withExamples(zoneToken, 'meshctl generate zone-token --zone=west --scope=cp --valid-for=720h > /tmp/west-token');

  const dataplaneToken = generate
    .command('dataplane-token')
    .description('generate a dataplane proxy token (prints only the token)')
    // Required: the control planes bind every dataplane token to one proxy name.
    .requiredOption('--name <name>', 'name of the dataplane the token is bound to')
    .option('--mesh <mesh>', 'mesh of the dataplane', 'default')
    .option('--tag <key=value>', 'tag the dataplane must carry; value may be v1,v2 (repeatable)', collectPairs, [])
    .addOption(new Option('--type <type>', 'proxy type').choices(['dataplane', 'ingress', 'egress']).default('dataplane'))
    .requiredOption('--valid-for <duration>', 'how long the token is valid, e.g. 24h')
    .action(
      async (opts: { name: string; mesh: string; tag: string[]; type: string; validFor: string }, cmd: Command) => {
        await issue(cmd, '/tokens/dataplane', {
          name: opts.name,
          mesh: opts.mesh,
          tags: parseTags(opts.tag),
          type: opts.type,
          validFor: opts.validFor,
        });
      },
    );
  withExamples(
    dataplaneToken,
    'meshctl generate dataplane-token --mesh=default --name=backend-01 \\\n  --tag kuma.io/service=backend --valid-for=24h > /tmp/backend-01-token',
  );

  const signingKey = generate
    .command('signing-key')
    .description('generate a new RSA 2048 signing key locally (base64 of the PEM by default)')
    .addOption(new Option('--format <format>', 'output format').choices(SIGNING_KEY_FORMATS).default('base64'))
    .action((opts: { format: SigningKeyFormat }) => {
      io.stdout(generateSigningKey(opts.format));
    });
  withExamples(
    signingKey,
    '# store a new user-token signing key with a serial greater than the current one\n' +
      'echo "\ntype: GlobalSecret\nname: user-token-signing-key-2\ndata: {{ key }}\n" | \\\n' +
      '  meshctl apply --var key=$(meshctl generate signing-key) -f -',
    'meshctl generate signing-key --format=pem > signing-key.pem',
  );

  const tlsCertificate = generate
    .command('tls-certificate')
    .description('generate a self-signed TLS certificate and key')
    .addOption(new Option('--type <type>', 'certificate type').choices(['client', 'server']).makeOptionMandatory())
    .requiredOption('--cert-file <path>', 'where to write the certificate (PEM)')
    .requiredOption('--key-file <path>', 'where to write the private key (PEM, mode 0600)')
    .option('--hostname <name>', 'DNS name or IP the certificate is for (repeatable; server default: localhost, 127.0.0.1, ::1)', collectList)
    .action(async (opts: { type: 'client' | 'server'; certFile: string; keyFile: string; hostname?: string[] }) => {
      await writeCertificateFiles(opts);
      io.stdout(`wrote ${opts.type} certificate to ${opts.certFile} and its key to ${opts.keyFile}\n`);
    });
  withExamples(
    tlsCertificate,
    'meshctl generate tls-certificate --type=client \\\n  --cert-file=/tmp/tls.crt \\\n  --key-file=/tmp/tls.key',
    'meshctl generate tls-certificate --type=server --hostname=cp.example.com \\\n  --cert-file=/tmp/server.crt --key-file=/tmp/server.key',
  );
}
