import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors.js';
import { decodeJws } from '../../tokens/jws-rs256.js';
import type { PlaneContext } from '../plane-context.js';

const body = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    jti: { type: 'string', minLength: 1, maxLength: 128 },
    token: { type: 'string', minLength: 1, maxLength: 8192 },
  },
} as const;

/** First-class revocation: one record per jti, kept until the token would have expired anyway. */
export function registerRevocationRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const user = ctx.families.user.family;

  app.post<{ Body: { jti?: string; token?: string } }>('/tokens/user/revocations', { schema: { body } }, async (request, reply) => {
    ctx.access.require(request.identity, 'adminResources');
    let { jti } = request.body;
    let expiresAt: number | null = null;
    if (request.body.token !== undefined) {
      // Not verified: the token may be signed by a key already removed, and revoking needs only its id.
      let payload: Record<string, unknown>;
      try {
        payload = decodeJws(request.body.token).payload;
      } catch (error) {
        throw badRequest('token', `is not a JWT: ${(error as Error).message}`);
      }
      if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 128) throw badRequest('token', 'has no jti claim');
      jti = payload.jti;
      if (typeof payload.exp === 'number' && Number.isFinite(payload.exp)) expiresAt = payload.exp * 1000;
    }
    const added = await user.revoke(jti!, expiresAt);
    request.log.info({ jti, by: request.identity.name }, 'user token revoked');
    const row = (await ctx.store.read.getRevocation(user.name.id, jti!))!;
    return reply.code(added ? 201 : 200).send({
      jti: row.jti,
      revokedAt: new Date(row.revokedAt).toISOString(),
      expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt).toISOString(),
    });
  });
}
