import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError } from './errors.js';

/** The shape of ~/.meshctl/config.yaml; modelled on kumactl's so its users recognise it. */
export interface MeshctlConfig {
  controlPlanes: ControlPlaneConfig[];
  /** Name of the active control plane; "" when none is chosen. */
  currentContext: string;
}

export interface ControlPlaneConfig {
  name: string;
  coordinates: { apiServer: ApiServerConfig };
}

export interface ApiServerConfig {
  url: string;
  authType?: 'tokens';
  authConf?: { token: string };
  clientCertFile?: string;
  clientKeyFile?: string;
  caCertFile?: string;
  skipVerify?: boolean;
}

export const CONFIG_ENV = 'MESHCTL_CONFIG';

/** `--config-file` wins over $MESHCTL_CONFIG, which wins over ~/.meshctl/config.yaml. */
export function configPath(env: NodeJS.ProcessEnv, override?: string): string {
  const chosen = override ?? env[CONFIG_ENV];
  if (chosen !== undefined && chosen !== '') return resolve(chosen);
  return join(homedir(), '.meshctl', 'config.yaml');
}

export function emptyConfig(): MeshctlConfig {
  return { controlPlanes: [], currentContext: '' };
}

/** Reads the config; a missing file is an empty config, a malformed one an error naming the field. */
export async function loadConfig(path: string): Promise<MeshctlConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyConfig();
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return validateConfig(raw ?? {}, path);
}

/**
 * Writes the config with mode 0600 (it holds tokens), atomically so that an interrupted
 * write never leaves half a file behind.
 */
export async function saveConfig(path: string, config: MeshctlConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, stringify(config), { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

function validateConfig(raw: unknown, path: string): MeshctlConfig {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`invalid config file ${path}: ${field} ${problem}`);
  };
  if (!isRecord(raw)) return fail('the document', 'must be a mapping');
  const planes = raw['controlPlanes'] ?? [];
  if (!Array.isArray(planes)) return fail('controlPlanes', 'must be a list');
  const current = raw['currentContext'] ?? '';
  if (typeof current !== 'string') return fail('currentContext', 'must be a string');
  const controlPlanes = planes.map((plane: unknown, i): ControlPlaneConfig => {
    const at = `controlPlanes[${i}]`;
    if (!isRecord(plane) || typeof plane['name'] !== 'string') return fail(`${at}.name`, 'must be a string');
    const coordinates = plane['coordinates'];
    const apiServer = isRecord(coordinates) ? coordinates['apiServer'] : undefined;
    if (!isRecord(apiServer) || typeof apiServer['url'] !== 'string') {
      return fail(`${at}.coordinates.apiServer.url`, 'must be a string');
    }
    const authConf = apiServer['authConf'];
    if (authConf !== undefined && (!isRecord(authConf) || typeof authConf['token'] !== 'string')) {
      return fail(`${at}.coordinates.apiServer.authConf.token`, 'must be a string');
    }
    return { name: plane['name'], coordinates: { apiServer: apiServer as unknown as ApiServerConfig } };
  });
  return { controlPlanes, currentContext: current };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
