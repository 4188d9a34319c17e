import type { FastifyInstance } from 'fastify';
import { MeshAuthError } from '../../errors.js';
import { problems, text } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';
import { actorOf, auditIn } from '../audit-actor.js';
import { parseValidFor, validForSchema } from '../validate.js';
import { decodeJws } from '../../tokens/jws-rs256.js';

const userTokenBody = {
  type: 'object',
  required: ['name', 'validFor'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253 },
    groups: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 } },
    validFor: validForSchema,
  },
} as const;

/** POST /tokens/user: the docs' "generate user token", by API or kumactl/meshctl. */
export function registerTokenRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.post<{ Body: { name: string; groups?: string[]; validFor: string } }>(
    '/tokens/user',
    {
      schema: {
        summary: 'Generate a user token (access generateUserToken)',
        body: userTokenBody,
        response: { 200: text('The user token (a JWT)'), ...problems(400, 403, 409, 413, 503) },
      },
    },
    async (request, reply) => {
      await requireAccess(ctx, request, 'generateUserToken');
      const refusal = ctx.userTokenIssuingRefusal();
      if (refusal) throw new MeshAuthError('ERR_CONFLICT', refusal);
      const { name, groups = [], validFor } = request.body;
      const token = await ctx.issuedTokens.issue(
        ctx.families.user,
        { Name: name, Groups: groups },
        parseValidFor(validFor, ctx.maxValidForMs),
        { kind: 'user', name, groups },
        actorOf(request).name,
        auditIn(ctx, request, 'user-token.generate', `user ${name}${groups.length ? ` (groups: ${groups.join(', ')})` : ''}`),
      );
      ctx.metrics.tokensIssued.inc({ kind: 'user' });
      request.log.info({ user: name, groups, jti: decodeJws(token).payload.jti, by: request.identity.name }, 'user token issued');
      return reply.type('text/plain').send(token);
    },
  );
}
