import type { FastifyInstance } from 'fastify';
import type { IssuedTokenView } from '../../tokens/issued-token-records.js';
import { exactly, isoTime, json, problems } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    group: { type: 'string', minLength: 1, maxLength: 253 },
  },
} as const;

const issuedList = exactly(
  {
    total: { type: 'integer', minimum: 0 },
    items: {
      type: 'array',
      items: exactly({
        jti: { type: 'string' },
        name: { type: 'string' },
        groups: { type: 'array', items: { type: 'string' } },
        issuedAt: isoTime,
        expiresAt: isoTime,
        issuedBy: { type: 'string' },
        instance: { type: 'string' },
        revoked: { type: 'boolean' },
        expired: { type: 'boolean' },
      }),
    },
    unrecordedBefore: { ...isoTime, description: 'Tokens issued before this were not recorded' },
  },
  ['unrecordedBefore'],
);

const listSchema = {
  summary: 'The user tokens this plane issued (records, never tokens), by name and/or group',
  querystring: query,
  response: { 200: json('Records, newest first', issuedList), ...problems(400, 403, 503) },
};

function toJson(record: IssuedTokenView) {
  return {
    jti: record.jti,
    name: record.name,
    groups: record.groups,
    issuedAt: new Date(record.issuedAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
    issuedBy: record.issuedBy,
    instance: record.instance,
    revoked: record.revoked,
    expired: record.expired,
  };
}

/** GET /tokens/user: the user tokens this plane issued (records, never tokens), by name and/or group. */
export function registerIssuedTokenRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get<{ Querystring: { name?: string; group?: string } }>('/tokens/user', { schema: listSchema }, async (request) => {
    await requireAccess(ctx, request, 'adminResources');
    const { name, group } = request.query;
    const records = await ctx.issuedTokens.list(ctx.families.user.family, { ...(name ? { name } : {}), ...(group ? { group } : {}) });
    const unrecordedBefore = ctx.issuedTokens.unrecordedBefore();
    return {
      total: records.length,
      items: records.map(toJson),
      ...(unrecordedBefore === undefined ? {} : { unrecordedBefore: new Date(unrecordedBefore).toISOString() }),
    };
  });
}
