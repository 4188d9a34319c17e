import type { FastifyInstance } from 'fastify';
import type { PlaneContext } from '../plane-context.js';
import { exactly, isoTimeOrNull, json, problems } from '../openapi/responses.js';
import { limitQuery, parseLimit } from '../validate.js';

const query = { type: 'object', additionalProperties: false, properties: { limit: limitQuery(50) } } as const;

const changeLog = exactly({
  version: { type: 'integer', minimum: 0 },
  floor: { type: 'integer', minimum: 0, description: 'Versions at or below this were pruned from the log' },
  items: {
    type: 'array',
    items: exactly({
      version: { type: 'integer' },
      committedAt: isoTimeOrNull,
      changes: {
        type: 'array',
        items: exactly({ family: { type: 'string' }, entity: { enum: ['key', 'revocation', 'family'] }, ref: { type: 'string' }, op: { enum: ['put', 'delete', 'reload'] } }),
      },
      more: { type: 'boolean', description: 'The version changed more items than listed' },
    }),
  },
});

const changesSchema = {
  summary: 'The newest versions of the change log (names and serials only)',
  querystring: query,
  response: { 200: json('Newest first', changeLog), ...problems(400, 403, 503) },
};

/** Items shown per version: replacing the docs' revocations secret can log a million rows under one. */
const ITEMS_PER_VERSION = 5;

/**
 * GET /changes: the newest versions of this plane's change log (what zones mirror and replicas
 * follow), newest first, each with its first few changed items. Names and serials only: a key's
 * material or a secret's value is never in the log.
 */
export function registerChangeRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get<{ Querystring: { limit?: string } }>('/changes', { schema: changesSchema }, async (request) => {
    ctx.access.require(request.identity, 'adminResources');
    const limit = parseLimit(request.query.limit, 10);
    const { read } = ctx.store;
    const [version, floor] = await Promise.all([read.version(), read.changeLogFloor()]);
    const versions = await read.versionsBetween(Math.max(floor, version - limit), version);
    const items = [];
    for (const v of versions.reverse()) {
      // After (v - 1, every seq): the rows of version v onwards, cut at one more than shown.
      const rows = (await read.changesAfter(v.version - 1, Number.MAX_SAFE_INTEGER, ITEMS_PER_VERSION + 1)).filter((r) => r.version === v.version);
      items.push({
        version: v.version,
        committedAt: v.committedAt > 0 ? new Date(v.committedAt).toISOString() : null,
        changes: rows.slice(0, ITEMS_PER_VERSION).map((r) => ({ family: r.family, entity: r.entity, ref: r.ref, op: r.op })),
        more: rows.length > ITEMS_PER_VERSION,
      });
    }
    return { version, floor, items };
  });
}
