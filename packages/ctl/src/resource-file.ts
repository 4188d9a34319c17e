import { parseAllDocuments } from 'yaml';
import { UsageError } from './errors.js';

export interface GlobalSecretResource {
  type: 'GlobalSecret';
  name: string;
  data: string;
}

export interface SecretResource {
  type: 'Secret';
  mesh: string;
  name: string;
  data: string;
}

export type Resource = GlobalSecretResource | SecretResource;

/** Where `apply` sends a resource. */
export function resourcePath(resource: Resource): string {
  const name = encodeURIComponent(resource.name);
  return resource.type === 'GlobalSecret'
    ? `/global-secrets/${name}`
    : `/meshes/${encodeURIComponent(resource.mesh)}/secrets/${name}`;
}

/**
 * Replaces `{{ key }}` with `--var key=value`, as kumactl apply does, so the docs' recipes
 * (`data: {{ key }}` with `--var key=$(meshctl generate signing-key)`) work verbatim.
 */
export function substituteVariables(text: string, vars: Record<string, string>, source: string): string {
  return text.replace(/\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new UsageError(`${source} uses {{ ${name} }} but no --var ${name}=… was given`);
    return value.trim();
  });
}

const FIELDS = { GlobalSecret: ['type', 'name', 'data'], Secret: ['type', 'mesh', 'name', 'data'] } as const;
/** Metadata that `get -o yaml` may print and `apply` should accept back. */
const IGNORED_FIELDS = new Set(['creationTime', 'modificationTime', 'labels']);

/** Parses one or more YAML (or JSON) documents into the resources meshctl can apply. */
export function parseResources(text: string, source: string): Resource[] {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return [];
  const resources: Resource[] = [];
  documents.forEach((doc, i) => {
    const where = documents.length > 1 ? `${source} (document ${i + 1})` : source;
    const error = doc.errors[0];
    if (error !== undefined) throw new UsageError(`cannot parse ${where}: ${error.message.split('\n')[0]}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    resources.push(toResource(value, where));
  });
  if (resources.length === 0) throw new UsageError(`${source} contains no resources`);
  return resources;
}

function toResource(value: unknown, where: string): Resource {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${where}: expected a mapping with type, name and data`);
  }
  const v = value as Record<string, unknown>;
  const type = v['type'];
  if (type !== 'GlobalSecret' && type !== 'Secret') {
    throw new UsageError(`${where}: type ${JSON.stringify(type)} is not supported (use GlobalSecret or Secret)`);
  }
  const allowed: readonly string[] = FIELDS[type];
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key) && !IGNORED_FIELDS.has(key)) throw new UsageError(`${where}: unknown field "${key}" for ${type}`);
  }
  for (const key of allowed) {
    if (typeof v[key] !== 'string' || v[key] === '') throw new UsageError(`${where}: ${type} needs a non-empty string "${key}"`);
  }
  const data = v['data'] as string;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new UsageError(`${where}: data must be base64`);
  const name = v['name'] as string;
  return type === 'GlobalSecret' ? { type, name, data } : { type, mesh: v['mesh'] as string, name, data };
}
