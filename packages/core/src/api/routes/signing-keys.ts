import type { FastifyInstance } from 'fastify';
import { reissueAdminToken } from '../../plane/bootstrap-credentials.js';
import { auditEvent } from '../audit-actor.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';

/** Rotation as the docs describe it, without hand-made PEMs; and the public keys for anyone. */
export function registerSigningKeyRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const user = ctx.families.user.family;

  app.get('/tokens/user/signing-keys', async (request) => {
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

  app.post('/tokens/user/signing-keys', async (request, reply) => {
    await requireAccess(ctx, request, 'adminResources');
    const key = await user.generateKey((tx, serial) => ctx.audit.write(tx, auditEvent(request, 'signing-key.create', `${user.name.label} signing key ${serial}`)));
    const adminTokenReissued = await reissueAdminToken(ctx);
    request.log.info({ serial: key.serial, by: request.identity.name, adminTokenReissued }, 'user-token signing key created');
    return reply.code(201).send({ serial: key.serial });
  });

  app.get('/.well-known/jwks.json', async (_request, reply) => {
    const keys = user.keys.list().map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: String(k.serial), alg: 'RS256', use: 'sig' }));
    return reply.header('cache-control', 'no-store').send({ keys });
  });
}
