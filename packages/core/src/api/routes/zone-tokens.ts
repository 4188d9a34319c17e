import type { FastifyInstance } from 'fastify';
import { zoneScopes, type ZoneScope } from '../../tokens/claims.js';
import type { FastifyRequest } from 'fastify';
import { actorOf, auditIn } from '../audit-actor.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';
import { problems, text } from '../openapi/responses.js';
import { meshNamePattern, parseValidFor, validForSchema } from '../validate.js';

const zoneTokenBody = {
  type: 'object',
  required: ['zone', 'validFor'],
  additionalProperties: false,
  properties: {
    zone: { type: 'string', pattern: meshNamePattern },
    scope: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: zoneScopes } },
    validFor: validForSchema,
  },
} as const;

const ingressBody = {
  type: 'object',
  required: ['zone', 'validFor'],
  additionalProperties: false,
  properties: { zone: zoneTokenBody.properties.zone, validFor: zoneTokenBody.properties.validFor },
} as const;

const issued = { 200: text('The zone token (a JWT)'), ...problems(400, 403, 413, 503) };

/** Global only: tokens a zone control plane (scope cp) or its ingress/egress present to global. */
export function registerZoneTokenRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const issue = async (request: FastifyRequest, zone: string, scope: ZoneScope[], validFor: string) => {
    const token = await ctx.issuedTokens.issue(
      ctx.families.zone,
      { Zone: zone, Scope: scope },
      parseValidFor(validFor, ctx.maxValidForMs),
      { kind: 'zone', zone },
      actorOf(request).name,
      auditIn(ctx, request, 'zone-token.generate', `zone ${zone} (scope: ${scope.join(', ')})`),
    );
    ctx.metrics.tokensIssued.inc({ kind: 'zone' });
    return token;
  };

  app.post<{ Body: { zone: string; scope?: ZoneScope[]; validFor: string } }>('/tokens/zone', { schema: { summary: 'Generate a zone token (global; access generateZoneToken)', body: zoneTokenBody, response: issued } }, async (request, reply) => {
    await requireAccess(ctx, request, 'generateZoneToken');
    const { zone, scope = ['cp', 'ingress', 'egress'], validFor } = request.body;
    const token = await issue(request, zone, scope, validFor);
    request.log.info({ zone, scope, by: request.identity.name }, 'zone token issued');
    return reply.type('text/plain').send(token);
  });

  // The docs list "zone ingress token": a zone token scoped to ingress.
  app.post<{ Body: { zone: string; validFor: string } }>('/tokens/zone-ingress', { schema: { summary: 'Generate a zone token scoped to ingress (global)', body: ingressBody, response: issued } }, async (request, reply) => {
    await requireAccess(ctx, request, 'generateZoneToken');
    const token = await issue(request, request.body.zone, ['ingress'], request.body.validFor);
    request.log.info({ zone: request.body.zone, by: request.identity.name }, 'zone ingress token issued');
    return reply.type('text/plain').send(token);
  });
}
