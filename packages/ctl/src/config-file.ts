import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { validateHeaderValue } from 'node:http';
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

/**
 * Reads the config; a malformed one is an error naming the field. A missing file is an empty
 * config, unless `requiredBy` names the flag that asked for this very file (`--config-file`).
 */
export async function loadConfig(path: string, requiredBy?: string): Promise<MeshctlConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (requiredBy !== undefined) throw new ConfigError(`${requiredBy} ${path}: no such file (config control-planes add creates it)`, { cause: err });
      return emptyConfig();
    }
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

/** Every key the file may hold, per mapping: anything else is a typo or another tool's setting. */
const KNOWN_KEYS = {
  document: ['controlPlanes', 'currentContext'],
  plane: ['name', 'coordinates'],
  coordinates: ['apiServer'],
  apiServer: ['url', 'authType', 'authConf', 'clientCertFile', 'clientKeyFile', 'caCertFile', 'skipVerify'],
  authConf: ['token'],
} as const;

/** Strict, like the daemons' config: an unknown key or a value of the wrong type is an error naming it. */
function validateConfig(raw: unknown, path: string): MeshctlConfig {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`invalid config file ${path}: ${field} ${problem}`);
  };
  const known = (node: Record<string, unknown>, at: string, keys: readonly string[]) => {
    for (const key of Object.keys(node)) {
      if (!keys.includes(key)) fail(at ? `${at}.${key}` : key, `is not a known key (known here: ${keys.join(', ')})`);
    }
  };
  const optional = (node: Record<string, unknown>, at: string, key: string, type: 'string' | 'boolean') => {
    if (node[key] !== undefined && typeof node[key] !== type) fail(`${at}.${key}`, `must be a ${type}`);
  };
  if (!isRecord(raw)) return fail('the document', 'must be a mapping');
  known(raw, '', KNOWN_KEYS.document);
  const planes = raw['controlPlanes'] ?? [];
  if (!Array.isArray(planes)) return fail('controlPlanes', 'must be a list');
  const current = raw['currentContext'] ?? '';
  if (typeof current !== 'string') return fail('currentContext', 'must be a string');
  const controlPlanes = planes.map((plane: unknown, i): ControlPlaneConfig => {
    const at = `controlPlanes[${i}]`;
    if (!isRecord(plane) || typeof plane['name'] !== 'string') return fail(`${at}.name`, 'must be a string');
    known(plane, at, KNOWN_KEYS.plane);
    const coordinates = plane['coordinates'];
    if (isRecord(coordinates)) known(coordinates, `${at}.coordinates`, KNOWN_KEYS.coordinates);
    const apiServer = isRecord(coordinates) ? coordinates['apiServer'] : undefined;
    if (!isRecord(apiServer) || typeof apiServer['url'] !== 'string') {
      return fail(`${at}.coordinates.apiServer.url`, 'must be a string');
    }
    const api = `${at}.coordinates.apiServer`;
    known(apiServer, api, KNOWN_KEYS.apiServer);
    for (const key of ['authType', 'clientCertFile', 'clientKeyFile', 'caCertFile'] as const) optional(apiServer, api, key, 'string');
    optional(apiServer, api, 'skipVerify', 'boolean');
    if (apiServer['authType'] !== undefined && apiServer['authType'] !== 'tokens') fail(`${api}.authType`, 'must be tokens');
    const authConf = apiServer['authConf'];
    if (authConf !== undefined && (!isRecord(authConf) || typeof authConf['token'] !== 'string')) {
      return fail(`${api}.authConf.token`, 'must be a string');
    }
    if (isRecord(authConf)) {
      known(authConf, `${api}.authConf`, KNOWN_KEYS.authConf);
      const problem = headerValueProblem(authConf['token'] as string);
      if (problem) fail(`${api}.authConf.token`, problem);
    }
    return { name: plane['name'], coordinates: { apiServer: apiServer as unknown as ApiServerConfig } };
  });
  return { controlPlanes, currentContext: current };
}

/**
 * Why `token` cannot be sent as `Authorization: Bearer <token>`, or undefined when it can: the
 * HTTP client would otherwise refuse it only at the first request ("Invalid character in header
 * content"), far from where it was set.
 */
export function headerValueProblem(token: string): string | undefined {
  try {
    validateHeaderValue('authorization', `Bearer ${token}`);
    return undefined;
  } catch {
    const chars = [...token];
    const index = chars.findIndex((c) => !/^[\t\x20-\x7e\x80-\xff]$/.test(c));
    const bad = index === -1 ? '' : ` (U+${chars[index]!.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at position ${index + 1})`;
    return `is not a valid HTTP header value${bad}: paste the token alone, on one line`;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
