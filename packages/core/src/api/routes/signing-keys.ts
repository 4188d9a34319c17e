import type { FastifyInstance } from 'fastify';
import { reissueAdminToken } from '../../plane/bootstrap-credentials.js';
import { auditEvent } from '../audit-actor.js';
import { exactly, isoTime, json, problems } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';

const keyList = exactly({
  items: {
    type: 'array',
    items: exactly({
      serial: { type: 'integer', minimum: 1 },
      createdAt: isoTime,
      publicKeyPem: { type: 'string' },
      origin: { enum: ['local', 'synced'], description: 'synced: received from global' },
      hasPrivateKey: { type: 'boolean' },
      signs: { type: 'boolean', description: 'The key new tokens are signed with' },
    }),
  },
});

const jwks = exactly({
  keys: {
    type: 'array',
    items: {
      type: 'object',
      required: ['kty', 'n', 'e', 'kid', 'alg', 'use'],
      properties: { kty: { const: 'RSA' }, n: { type: 'string' }, e: { type: 'string' }, kid: { type: 'string', description: 'The serial' }, alg: { const: 'RS256' }, use: { const: 'sig' } },
      additionalProperties: false,
    },
  },
});

const rotateSchema = {
  summary: 'Rotate: create the next user-token signing key',
  response: { 201: json('The new key', exactly({ serial: { type: 'integer', minimum: 1 } })), ...problems(403, 409, 503) },
};

/** Rotation as the docs describe it, without hand-made PEMs; and the public keys for anyone. */
export function registerSigningKeyRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const user = ctx.families.user.family;

  app.get('/tokens/user/signing-keys', { schema: { summary: 'User-token signing keys (never private keys)', response: { 200: json('The keys, newest last', keyList), ...problems(403, 503) } } }, async (request) => {
    await requireAccess(ctx, request, 'adminResources');
    const signer = user.keys.signer?.serial;
    return {
      items: user.keys.list().map((k) => ({
        serial: k.serial,
        createdAt: new Date(k.createdAt).toISOString(),
        publicKeyPem: k.publicPem,
        origin: k.origin,
        hasPrivateKey: k.privateKey !== undefined,
        signs: k.serial === signer,
      })),
    };
  });

  app.post('/tokens/user/signing-keys', { schema: rotateSchema }, async (request, reply) => {
    await requireAccess(ctx, request, 'adminResources');
    const key = await user.generateKey((tx, serial) => ctx.audit.write(tx, auditEvent(request, 'signing-key.create', `${user.name.label} signing key ${serial}`)));
    const adminTokenReissued = await reissueAdminToken(ctx);
    request.log.info({ serial: key.serial, by: request.identity.name, adminTokenReissued }, 'user-token signing key created');
    return reply.code(201).send({ serial: key.serial });
  });

  app.get('/.well-known/jwks.json', { schema: { summary: 'Public user-token keys as a JWKS', response: { 200: json('JWKS (RFC 7517)', jwks), ...problems() } } }, async (_request, reply) => {
    const keys = user.keys.list().map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: String(k.serial), alg: 'RS256', use: 'sig' }));
    return reply.header('cache-control', 'no-store').send({ keys });
  });
}
