/**
 * Building blocks of the routes' response schemas. Responses are serialized with JSON.stringify
 * (see openapi.ts), so these schemas describe what a route answers and never reshape it; a test
 * checks real answers against them.
 */

const problemDescriptions: Record<number, string> = {
  400: 'Invalid request: invalid_parameters names every invalid field',
  401: 'The credentials are refused (expired, revoked, unknown key, bad signature, malformed)',
  403: 'The caller may not do this (named in detail)',
  404: 'Not found',
  409: 'Conflicts with the current state (detail says why and what to do)',
  413: 'Body over the configured limit',
  503: 'The store is unavailable',
};

/** Problem responses for these statuses, plus `default` (any other error, 5xx included). */
export function problems(...statuses: (keyof typeof problemDescriptions)[]): Record<string, unknown> {
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } });
  const out: Record<string, unknown> = {};
  // Any route may meet a bad bearer token: the API server authenticates every request.
  for (const status of new Set([...statuses, 401])) out[status] = problem(problemDescriptions[status]!);
  out['default'] = problem('Any other error (problem+json)');
  return out;
}

export function json(description: string, schema: Record<string, unknown>): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } };
}

export function text(description: string, contentType = 'text/plain'): Record<string, unknown> {
  return { description, content: { [contentType]: { schema: { type: 'string' } } } };
}

/** An object that has exactly these properties, all present. */
export function exactly(properties: Record<string, unknown>, optional: string[] = []): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties).filter((p) => !optional.includes(p)), properties };
}

export const isoTime = { type: 'string', format: 'date-time' } as const;
export const isoTimeOrNull = { type: ['string', 'null'], format: 'date-time' } as const;
export const emptyObject = { type: 'object', additionalProperties: false, properties: {} } as const;
