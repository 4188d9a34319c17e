import type { FastifyInstance } from 'fastify';
import { badRequest, isMeshAuthError } from '../../errors.js';
import type { UserClaims } from '../../tokens/claims.js';
import type { SignatureCheck, TokenVerifier } from '../../tokens/token-verifier.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditEvent, auditIn } from '../audit-actor.js';
import type { PlaneContext } from '../plane-context.js';
import { exactly, isoTime, isoTimeOrNull, json, problems } from '../openapi/responses.js';
import { limitQuery, parseLimit } from '../validate.js';
import { requireAccess } from '../require-access.js';

const body = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    jti: { type: 'string', minLength: 1, maxLength: 128 },
    token: { type: 'string', minLength: 1, maxLength: 8192 },
    name: { type: 'string', minLength: 1, maxLength: 253 },
    group: { type: 'string', minLength: 1, maxLength: 253 },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { jti: { type: 'string', minLength: 1, maxLength: 128 }, limit: limitQuery(100) },
} as const;

const revocationRecord = exactly({
  jti: { type: 'string' },
  revokedAt: isoTime,
  expiresAt: { ...isoTimeOrNull, description: "The token's exp, after which the record may be dropped; null: kept until removed" },
});

const subjectRevocation = exactly(
  {
    revoked: { type: 'integer', minimum: 0 },
    jtis: { type: 'array', items: { type: 'string' } },
    unrecordedBefore: { ...isoTime, description: 'Tokens issued before this were not recorded' },
    warning: { type: 'string' },
  },
  ['unrecordedBefore', 'warning'],
);

const revokeSchema = {
  summary: 'Revoke a user token by jti or token, or every token of a name or group',
  description: 'Exactly one of jti, token, name, group.',
  body,
  response: {
    200: json('Already revoked (jti, token), or the tokens of the subject revoked now', { oneOf: [revocationRecord, subjectRevocation] }),
    201: json('Revoked now', revocationRecord),
    ...problems(400, 403, 413, 503),
  },
};

const listSchema = {
  summary: 'How many revocations, and the newest few (or the one a jti names)',
  querystring: listQuery,
  response: { 200: json('Revocations', exactly({ count: { type: 'integer', minimum: 0 }, items: { type: 'array', items: revocationRecord } })), ...problems(400, 403, 503) },
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

interface RevocationBody {
  jti?: string;
  token?: string;
  name?: string;
  group?: string;
}

/** First-class revocation: one record per jti, kept until the token would have expired anyway. */
export function registerRevocationRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const { family: user, verifier } = ctx.families.user;

  /** `{"name"}` / `{"group"}`: every unexpired token recorded for that subject, in one transaction. */
  const revokeSubject = async (request: FastifyRequest<{ Body: RevocationBody }>, reply: FastifyReply) => {
    const { name, group } = request.body;
    const subject = name !== undefined ? { name } : { group: group! };
    const target = name !== undefined ? `user ${name}` : `group ${group}`;
    const revoked = await ctx.issuedTokens.revokeAll(user, subject, (tx, added) =>
      ctx.audit.write(tx, auditEvent(request, 'user-token.revoke', `every token of ${target}`, `revoked ${added.length}`)),
    );
    request.log.info({ ...subject, revoked: revoked.length, by: request.identity.name }, 'user tokens revoked by subject');
    const unrecordedBefore = ctx.issuedTokens.unrecordedBefore();
    return reply.send({
      revoked: revoked.length,
      jtis: revoked,
      ...(unrecordedBefore === undefined
        ? {}
        : {
            unrecordedBefore: new Date(unrecordedBefore).toISOString(),
            warning: `tokens issued before ${new Date(unrecordedBefore).toISOString()} were not recorded and may still be valid; revoke them by jti or rotate the signing key`,
          }),
    });
  };

  app.post<{ Body: RevocationBody }>('/tokens/user/revocations', { schema: revokeSchema }, async (request, reply) => {
    await requireAccess(ctx, request, 'adminResources');
    if (request.body.name !== undefined || request.body.group !== undefined) return revokeSubject(request, reply);
    const { jti, expiresAt, verified } =
      request.body.token === undefined ? { jti: request.body.jti!, expiresAt: null, verified: undefined } : revocationOf(verifier, request.body.token);
    const added = await user.revoke(jti, expiresAt, auditIn(ctx, request, 'user-token.revoke', `user token ${jti}`));
    request.log.info({ jti, by: request.identity.name, ...(verified === undefined ? {} : { tokenVerified: verified }) }, 'user token revoked');
    const row = (await ctx.store.read.getRevocation(user.name.id, jti))!;
    return reply.code(added ? 201 : 200).send({ jti: row.jti, revokedAt: iso(row.revokedAt), expiresAt: iso(row.expiresAt) });
  });

  // What the status page shows: how many (from memory, which follows the change log: no count(*)
  // over a million rows every poll), the newest few, or the one record a jti names.
  app.get<{ Querystring: { jti?: string; limit?: string } }>('/tokens/user/revocations', { schema: listSchema }, async (request) => {
    ctx.access.require(request.identity, 'adminResources');
    const { jti } = request.query;
    const limit = parseLimit(request.query.limit, 10);
    const rows = jti === undefined ? await ctx.store.read.recentRevocations(user.name.id, limit) : [await ctx.store.read.getRevocation(user.name.id, jti)].filter((r) => r !== undefined);
    return { count: user.revocations.size, items: rows.map((r) => ({ jti: r.jti, revokedAt: iso(r.revokedAt), expiresAt: iso(r.expiresAt) })) };
  });
}

/**
 * The record a token given for revocation makes. Its claims are used only once its signature
 * verifies: a copy with `exp` set to the past would otherwise get a record the next prune drops
 * (the real token working again), and a copy with another jti would revoke something else.
 * Expired, not yet valid or already revoked tokens verify all the same: an operator revoking a
 * token they hold means that token, whatever its times say, and a record past its exp is harmless.
 * A token whose key is gone cannot be verified; it is revoked by its jti (no more than `{"jti"}`
 * could do, and it matters if that key is put back), but never gets an expiry from claims no key
 * vouches for: the record is kept until removed.
 */
function revocationOf(verifier: TokenVerifier<UserClaims>, token: string): { jti: string; expiresAt: number | null; verified: boolean } {
  let check: SignatureCheck<UserClaims>;
  try {
    check = verifier.checkSignature(token);
  } catch (error) {
    if (isMeshAuthError(error)) throw badRequest('token', error.message);
    throw error;
  }
  if (check.verified) return { jti: check.claims.jti, expiresAt: check.claims.exp * 1000, verified: true };
  const { jti } = check.payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 128) throw badRequest('token', `has no jti claim (and ${check.reason})`);
  return { jti, expiresAt: null, verified: false };
}
