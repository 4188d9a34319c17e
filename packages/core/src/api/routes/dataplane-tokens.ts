import type { FastifyInstance } from 'fastify';
import { MeshAuthError } from '../../errors.js';
import { issueDataplaneToken } from '../../dataplane/issue-dataplane-token.js';
import { actorOf, auditIn } from '../audit-actor.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';
import { problems, text } from '../openapi/responses.js';
import { meshNamePattern, parseValidFor, validForSchema } from '../validate.js';

export const dataplaneTypes = ['dataplane', 'ingress', 'egress'] as const;

const dataplaneTokenBody = {
  type: 'object',
  required: ['name', 'mesh', 'validFor'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    mesh: { type: 'string', pattern: meshNamePattern },
    // Kuma's shape: each tag names the values the proxy may claim, e.g. {"kuma.io/service": ["web"]}.
    tags: {
      type: 'object',
      maxProperties: 64,
      propertyNames: { minLength: 1, maxLength: 253 },
      additionalProperties: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 253 } },
    },
    type: { enum: dataplaneTypes },
    validFor: validForSchema,
  },
} as const;

interface DataplaneTokenBody {
  name: string;
  mesh: string;
  tags?: Record<string, string[]>;
  type?: string;
  validFor: string;
}

/**
 * Why global issues no dataplane tokens: a dataplane token names its zone (`Zone`) and is checked
 * only by that zone's dp-server, against that zone's own mesh keys, which global neither has nor
 * syncs. A token from global would name no zone and every zone would refuse it, so global says
 * where to ask instead of handing out a token that works nowhere.
 */
export const globalIssuesNoDataplaneTokens =
  'global does not issue dataplane tokens: a dataplane token is checked by the dp-server of the zone it names, with that zone\'s keys; ask the zone control plane (POST /tokens/dataplane on its API, or meshctl with the zone as the control plane)';

/** POST /tokens/dataplane: on a zone, a token a proxy presents to its dp-server; global refuses (409). */
export function registerDataplaneTokenRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.post<{ Body: DataplaneTokenBody }>('/tokens/dataplane', {
    schema: { summary: 'Generate a dataplane token (access generateDpToken)', body: dataplaneTokenBody, response: { 200: text('The dataplane token (a JWT)'), ...problems(400, 403, 413, 503) } },
  }, async (request, reply) => {
    await requireAccess(ctx, request, 'generateDpToken');
    if (ctx.plane === 'global') throw new MeshAuthError('ERR_CONFLICT', globalIssuesNoDataplaneTokens);
    const { name, mesh, tags = {}, type = 'dataplane', validFor } = request.body;
    const validForMs = parseValidFor(validFor, ctx.maxValidForMs);
    const token = await issueDataplaneToken(
      { families: ctx.families, records: ctx.issuedTokens, zone: ctx.zoneName ?? '', logger: ctx.logger },
      { name, mesh, tags, type, validForMs },
      { issuedBy: actorOf(request).name, also: auditIn(ctx, request, 'dataplane-token.generate', `dataplane ${name} in mesh ${mesh} (type ${type})`) },
    );
    ctx.metrics.tokensIssued.inc({ kind: 'dataplane' });
    request.log.info({ dataplane: name, mesh, type, by: request.identity.name }, 'dataplane token issued');
    return reply.type('text/plain').send(token);
  });
}
