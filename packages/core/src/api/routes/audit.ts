import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors.js';
import { toAuditEntry } from '../../audit/audit-log.js';
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
    since: { type: 'string', minLength: 1, maxLength: 64 },
    cursor: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' },
    size: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' },
  },
} as const;

interface AuditQuerystring {
  actor?: string;
  action?: string;
  since?: string;
  cursor?: string;
  size?: string;
}

/** GET /audit: admin actions, newest first, a page at a time (`next` is the cursor of the following page). */
export function registerAuditRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get<{ Querystring: AuditQuerystring }>('/audit', { schema: { querystring: query } }, async (request) => {
    await requireAccess(ctx, request, 'adminResources');
    const { actor, action, since, cursor, size } = request.query;
    const sinceMs = since === undefined ? undefined : Date.parse(since);
    if (sinceMs !== undefined && Number.isNaN(sinceMs)) throw badRequest('since', `must be a time such as 2026-12-01T10:00:00Z, got ${JSON.stringify(since)}`);
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
