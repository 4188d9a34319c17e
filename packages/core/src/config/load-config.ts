import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configError } from './config-error.js';
import { constraints } from './constraints.js';
import { defaults, type MeshAuthConfig } from './defaults.js';

export const ENV_PREFIX = 'MESHAUTH_';

/** `apiServer.https.tlsCertFile` → `MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE`. */
export function envNameOf(path: string): string {
  return ENV_PREFIX + path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Every setting's dotted path with its default, leaves only. */
export function settingPaths(): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, path);
      else out.set(path, value);
    }
  };
  walk(defaults as unknown as Record<string, unknown>, '');
  return out;
}

/** All env names a daemon accepts: the compose-file test checks against this list. */
export function knownEnvNames(): string[] {
  return [...settingPaths().keys()].map(envNameOf);
}

const invalid = (setting: string, reason: string) => configError(`${setting} ${reason}`);

function coerceEnv(raw: string, like: unknown, env: string): unknown {
  if (typeof like === 'number') {
    if (!/^-?\d+$/.test(raw.trim())) throw invalid(env, `must be an integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (typeof like === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw invalid(env, `must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (Array.isArray(like)) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

function checkType(value: unknown, like: unknown, setting: string): void {
  const ok = Array.isArray(like)
    ? Array.isArray(value) && value.every((v) => typeof v === 'string')
    : typeof value === typeof like;
  if (!ok) throw invalid(setting, `must be ${Array.isArray(like) ? 'a list of strings' : `a ${typeof like}`}, got ${JSON.stringify(value)}`);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

function readFileSettings(file: string, known: Map<string, unknown>): Map<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw configError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  const out = new Map<string, unknown>();
  if (parsed === null || parsed === undefined) return out;
  const walk = (node: unknown, prefix: string) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      throw invalid(prefix || file, 'must be a mapping');
    }
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (known.has(path)) out.set(path, value);
      else if ([...known.keys()].some((k) => k.startsWith(`${path}.`))) walk(value, path);
      else throw invalid(`${path} (in ${file})`, 'is not a known setting');
    }
  };
  walk(parsed, '');
  return out;
}

/**
 * Defaults, overlaid by the YAML file, overlaid by MESHAUTH_* env. Unknown keys and bad values
 * throw one MeshAuthError naming the setting; the result is deeply frozen.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): MeshAuthConfig {
  const env = options.env ?? process.env;
  const known = settingPaths();
  const config = structuredClone(defaults) as unknown as Record<string, unknown>;

  if (options.file) {
    for (const [path, value] of readFileSettings(options.file, known)) {
      checkType(value, known.get(path), path);
      setPath(config, path, value);
    }
  }

  const byEnvName = new Map([...known.keys()].map((path) => [envNameOf(path), path]));
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = byEnvName.get(name);
    if (!path) throw invalid(name, 'is not a known setting');
    setPath(config, path, coerceEnv(raw, known.get(path), name));
  }

  for (const [path, check] of Object.entries(constraints)) {
    const value = path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
    const reason = check(value);
    if (reason) throw invalid(`${path} (${envNameOf(path)})`, `${reason}, got ${JSON.stringify(value)}`);
  }
  return deepFreeze(config) as unknown as MeshAuthConfig;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
