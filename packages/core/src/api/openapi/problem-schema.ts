import { errorRegistry } from '../../errors.js';

/** The `Problem` component: every error of every route, as problem.ts builds it (RFC 9457). */
export const problemSchema = {
  $id: 'Problem',
  title: 'Problem',
  description: 'RFC 9457 problem details (application/problem+json): every error the API answers with.',
  type: 'object',
  required: ['type', 'status', 'title', 'detail', 'code', 'instance'],
  additionalProperties: false,
  properties: {
    type: { type: 'string', description: 'https://meshauth.dev/problems/{status}' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    title: { type: 'string' },
    detail: { type: 'string', description: 'What went wrong, for people: never a token or a secret value.' },
    code: { type: 'string', enum: Object.keys(errorRegistry), description: 'Stable error code (README "Errors"): what callers switch on.' },
    instance: { type: 'string', description: 'The request id; the log lines of the request carry it as reqId.' },
    invalid_parameters: {
      type: 'array',
      description: 'Every invalid field of the request, not only the first.',
      items: {
        type: 'object',
        required: ['field', 'reason'],
        additionalProperties: false,
        properties: { field: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const;

/** The dp-server's refusals: a Problem plus the reason a proxy can act on. */
export const bootstrapProblemSchema = {
  $id: 'BootstrapProblem',
  title: 'BootstrapProblem',
  description: 'A refused bootstrap: Problem plus `reason`, so a proxy can tell "regenerate the token" from "wrong zone".',
  type: 'object',
  required: [...problemSchema.required, 'reason'],
  additionalProperties: false,
  properties: {
    ...problemSchema.properties,
    reason: { type: 'string', enum: ['malformed', 'expired', 'not-yet-valid', 'revoked', 'key-rotated', 'foreign-zone', 'other-mesh', 'other-name'] },
  },
} as const;
