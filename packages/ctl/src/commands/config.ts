import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  configPath,
  headerValueProblem,
  loadConfig,
  saveConfig,
  type ApiServerConfig,
  type ControlPlaneConfig,
  type MeshctlConfig,
} from '../config-file.js';
import { addControlPlane, removeControlPlane, switchControlPlane } from '../control-planes.js';
import type { GlobalOptions } from '../control-plane-client.js';
import { ConfigError, UsageError } from '../errors.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { collectPairs, parseKeyValues } from '../option-values.js';
import { outputOption, render, type OutputFormat } from '../output.js';

interface AddOptions {
  name: string;
  address: string;
  authType?: string;
  authConf?: string[];
  clientCertFile?: string;
  clientKeyFile?: string;
  caCertFile?: string;
  skipVerify?: boolean;
  overwrite?: boolean;
}

export function registerConfigCommands(program: Command, io: CliIo): void {
  const configCmd = program.command('config').description('manage the meshctl configuration');
  const planes = configCmd.command('control-planes').description('manage the control planes meshctl talks to');
  const addExample =
    'meshctl config control-planes add --name=my-cp --address=http://localhost:5681 \\\n' +
    '  --auth-type=tokens --auth-conf token=eyJhbGc...';
  withExamples(configCmd, addExample);
  withExamples(planes, addExample, 'meshctl config control-planes list');

  /** `creates`: the command may start the file (add); any other needs a --config-file that exists. */
  const edit = async (cmd: Command, change: (config: MeshctlConfig) => MeshctlConfig, creates = false) => {
    const { configFile } = cmd.optsWithGlobals<GlobalOptions>();
    const path = configPath(io.env, configFile);
    await saveConfig(path, change(await loadConfig(path, configFile === undefined || creates ? undefined : '--config-file')));
  };

  const add = planes
    .command('add')
    .description('add a control plane and switch to it')
    .requiredOption('--name <name>', 'name to refer to the control plane by')
    .requiredOption('--address <url>', 'API server address, e.g. https://cp.example.com:5682')
    .addOption(new Option('--auth-type <type>', 'authentication type').choices(['tokens']))
    .option('--auth-conf <key=value>', 'authentication settings, e.g. token=eyJ… (repeatable)', collectPairs)
    .option('--client-cert-file <path>', 'client certificate, for adminClientCerts authentication')
    .option('--client-key-file <path>', 'key of the client certificate')
    .addOption(new Option('--ca-cert-file <path>', 'CA that signed the API server certificate').conflicts('skipVerify'))
    .addOption(new Option('--skip-verify', 'do not verify the API server certificate (insecure)'))
    .option('--overwrite', 'replace a control plane of the same name')
    .action(async (opts: AddOptions, cmd: Command) => {
      const plane = await controlPlaneFromOptions(opts);
      await edit(cmd, (config) => addControlPlane(config, plane, { overwrite: opts.overwrite === true }), true);
      io.stdout(`added control plane "${plane.name}" (${plane.coordinates.apiServer.url}) and switched to it\n`);
    });
  withExamples(
    add,
    `# with the admin user token (or any user token)\n${addExample}`,
    '# with admin client certificates (deprecated)\n' +
      'meshctl config control-planes add \\\n' +
      '  --name=<NAME> --address=https://<KUMA_CP_DNS_NAME>:5682 \\\n' +
      '  --client-cert-file=/tmp/tls.crt \\\n' +
      '  --client-key-file=/tmp/tls.key \\\n' +
      '  --ca-cert-file=/tmp/ca.crt',
  );

  const list = planes
    .command('list')
    .description('list the configured control planes')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { configFile } = cmd.optsWithGlobals<GlobalOptions>();
      const config = await loadConfig(configPath(io.env, configFile), configFile === undefined ? undefined : '--config-file');
      const rows = config.controlPlanes.map((p) => publicView(p, config.currentContext));
      io.stdout(
        render(opts.output, {
          data: rows,
          rows,
          columns: [
            { header: 'active', value: (r) => (r.active ? '*' : '') },
            { header: 'name', value: (r) => r.name },
            { header: 'address', value: (r) => r.address },
            { header: 'auth', value: (r) => authLabel(r) },
          ],
        }),
      );
    });
  withExamples(list, 'meshctl config control-planes list', 'meshctl config control-planes list -o yaml');

  const switchCmd = planes
    .command('switch')
    .description('make another control plane the active one')
    .requiredOption('--name <name>', 'control plane to switch to')
    .action(async (opts: { name: string }, cmd: Command) => {
      await edit(cmd, (config) => switchControlPlane(config, opts.name));
      io.stdout(`switched to control plane "${opts.name}"\n`);
    });
  withExamples(switchCmd, 'meshctl config control-planes switch --name=my-cp');

  const remove = planes
    .command('remove')
    .description('remove a control plane from the configuration')
    .requiredOption('--name <name>', 'control plane to remove')
    .action(async (opts: { name: string }, cmd: Command) => {
      let wasActive = false;
      await edit(cmd, (config) => {
        wasActive = config.currentContext === opts.name;
        return removeControlPlane(config, opts.name);
      });
      const note = wasActive ? '; no control plane is active now (use "config control-planes switch")' : '';
      io.stdout(`removed control plane "${opts.name}"${note}\n`);
    });
  withExamples(remove, 'meshctl config control-planes remove --name=my-cp');
}

async function controlPlaneFromOptions(opts: AddOptions): Promise<ControlPlaneConfig> {
  const url = parseAddress(opts.address);
  const apiServer: ApiServerConfig = { url };
  const authConf = parseKeyValues(opts.authConf ?? [], '--auth-conf');
  if (opts.authType === 'tokens') {
    const token = authConf['token'];
    if (token === undefined || token === '') throw new UsageError('--auth-type tokens needs --auth-conf token=<user token>');
    const problem = headerValueProblem(token.trim());
    if (problem) throw new UsageError(`--auth-conf token ${problem}`);
    apiServer.authType = 'tokens';
    apiServer.authConf = { token: token.trim() };
  } else if (opts.authConf !== undefined) {
    throw new UsageError('--auth-conf needs --auth-type tokens');
  }
  if ((opts.clientCertFile === undefined) !== (opts.clientKeyFile === undefined)) {
    throw new UsageError('--client-cert-file and --client-key-file go together');
  }
  if (opts.clientCertFile !== undefined) apiServer.clientCertFile = await existingFile(opts.clientCertFile, '--client-cert-file');
  if (opts.clientKeyFile !== undefined) apiServer.clientKeyFile = await existingFile(opts.clientKeyFile, '--client-key-file');
  if (opts.caCertFile !== undefined) apiServer.caCertFile = await existingFile(opts.caCertFile, '--ca-cert-file');
  if (opts.skipVerify === true) apiServer.skipVerify = true;
  const usesTls = apiServer.clientCertFile !== undefined || apiServer.caCertFile !== undefined || apiServer.skipVerify;
  if (usesTls && !url.startsWith('https:')) {
    throw new UsageError('--client-cert-file, --ca-cert-file and --skip-verify need an https:// --address');
  }
  return { name: opts.name, coordinates: { apiServer } };
}

function parseAddress(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new UsageError(`--address ${address} is not a URL; expected e.g. http://localhost:5681`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--address ${address} must start with http:// or https://`);
  }
  return address.replace(/\/+$/, '');
}

/** Stored as an absolute path so the config works from any directory. */
async function existingFile(path: string, flag: string): Promise<string> {
  const absolute = resolve(path);
  try {
    await access(absolute);
  } catch {
    throw new ConfigError(`${flag} ${path}: no such file`);
  }
  return absolute;
}

/** What `list` shows: never the token itself. */
function publicView(plane: ControlPlaneConfig, current: string) {
  const api = plane.coordinates.apiServer;
  return {
    name: plane.name,
    address: api.url,
    active: plane.name === current,
    authType: api.authType ?? (api.clientCertFile !== undefined ? 'clientCert' : 'none'),
    ...(api.caCertFile !== undefined ? { caCertFile: api.caCertFile } : {}),
    ...(api.clientCertFile !== undefined ? { clientCertFile: api.clientCertFile } : {}),
    ...(api.skipVerify === true ? { skipVerify: true } : {}),
  };
}

function authLabel(row: ReturnType<typeof publicView>): string {
  return row.skipVerify === true ? `${row.authType} (skip-verify)` : row.authType;
}
