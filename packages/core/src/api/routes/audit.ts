import type { FastifyInstance } from 'fastify';
import { toAuditEntry } from '../../audit/audit-log.js';
import { exactly, isoTime, json, problems } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    actor: { type: 'string', minLength: 1, maxLength: 512 },
    action: { type: 'string', minLength: 1, maxLength: 64 },
    since: { type: 'string', minLength: 1, maxLength: 64, 'x-time': true, description: 'Entries at or after this time (2026-12-01T10:00:00Z)' },
    cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
    size: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
  },
} as const;

const auditPage = exactly({
  items: {
    type: 'array',
    items: exactly({
      time: isoTime,
      actor: { type: 'string' },
      actorGroups: { type: 'array', items: { type: 'string' } },
      action: { type: 'string' },
      target: { type: 'string' },
      result: { type: 'string' },
      plane: { enum: ['global', 'zone'] },
      instance: { type: 'string' },
      requestId: { type: 'string', description: 'The request id (problem+json instance, log reqId); empty for actions of the plane itself' },
    }),
  },
  next: { type: ['string', 'null'], description: 'cursor of the next page; null on the last' },
});

const auditSchema = {
  summary: 'Admin actions, newest first, a page at a time',
  querystring: query,
  response: { 200: json('One page', auditPage), ...problems(400, 403, 503) },
};

interface AuditQuerystring {
  actor?: string;
  action?: string;
  since?: string;
  cursor?: string;
  size?: string;
}

/** GET /audit: admin actions, newest first, a page at a time (`next` is the cursor of the following page). */
export function registerAuditRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get<{ Querystring: AuditQuerystring }>('/audit', { schema: auditSchema }, async (request) => {
    await requireAccess(ctx, request, 'adminResources');
    const { actor, action, since, cursor, size } = request.query;
    // x-time made sure Date.parse reads it.
    const sinceMs = since === undefined ? undefined : Date.parse(since);
    const limit = Math.min(size === undefined ? DEFAULT_PAGE : Number(size), MAX_PAGE);
    const rows = await ctx.store.read.listAudit({
      ...(actor === undefined ? {} : { actor }),
      ...(action === undefined ? {} : { action }),
      ...(sinceMs === undefined ? {} : { since: sinceMs }),
      ...(cursor === undefined ? {} : { before: Number(cursor) }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return { items: page.map(toAuditEntry), next: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
  });
}
