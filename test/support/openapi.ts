/**
 * Checks of a server's /openapi.json: the document is valid OpenAPI 3.1 (by an independent
 * validator), and an answer matches what the document says of its route, status and media type.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** What a test reads of an OpenAPI 3.1 document. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface Operation {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}

export const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The validator's verdict: `{ valid: true }` or the errors. */
export async function validateOpenApi(doc: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const validator = new Validator();
  const result = await validator.validate(doc as Parameters<Validator['validate']>[0]);
  return { valid: result.valid, ...(result.valid ? {} : { errors: result.errors }) };
}

/** fastify's `/meshes/:mesh/secrets/:name` as OpenAPI writes it. */
export function openApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Every operation of the document, as `GET /meshes/{mesh}/secrets`. */
export function operationsOf(doc: OpenApiDocument): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => methods.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`));
}

/** The document's `#/components/schemas/X` references, resolved in place (ajv then needs no document). */
function inlineRefs(schema: unknown, components: Record<string, unknown>): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inlineRefs(s, components));
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) return inlineRefs(components[ref.slice('#/components/schemas/'.length)], components);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlineRefs(v, components)]));
}

export interface ResponseCheck {
  method: string;
  /** The route's path template, OpenAPI form. */
  path: string;
  status: number;
  contentType: string;
  body: string;
}

/**
 * A function saying why an answer does not match the document (undefined when it does): its
 * status must be documented (or `default`), its media type listed there, and a JSON body must
 * validate against the schema (which, for meshauth's, admits no field it does not name).
 */
export function responseChecker(doc: OpenApiDocument): (answer: ResponseCheck) => string | undefined {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const compiled = new Map<string, ValidateFunction>();
  const components = doc.components?.schemas ?? {};
  return ({ method, path, status, contentType, body }) => {
    const at = `${method} ${path} ${status}`;
    const operation = doc.paths[path]?.[method.toLowerCase()];
    if (!operation) return `${at}: no such operation in the document`;
    const response = operation.responses[String(status)] ?? operation.responses['default'];
    if (!response) return `${at}: status not documented`;
    const mediaType = contentType.split(';')[0]!.trim();
    const content = response.content?.[mediaType];
    if (!content) return `${at}: ${mediaType} not documented (${Object.keys(response.content ?? {}).join(', ')})`;
    if (!mediaType.endsWith('json')) return undefined;
    const key = `${at} ${mediaType}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(inlineRefs(content.schema, components) as object);
      compiled.set(key, validate);
    }
    if (validate(JSON.parse(body))) return undefined;
    return `${at}: ${ajv.errorsText(validate.errors)} in ${body.slice(0, 300)}`;
  };
}
