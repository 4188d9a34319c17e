import type { FastifyInstance, FastifyReply } from 'fastify';
import { MeshAuthError, badRequest } from '../../errors.js';
import type { FastifyRequest } from 'fastify';
import type { AuditAction } from '../../audit/audit-log.js';
import type { StoreTx } from '../../store/store.js';
import { auditEvent } from '../audit-actor.js';
import { reissueAdminToken } from '../../plane/bootstrap-credentials.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';
import { SecretViews, type SecretResource } from '../secret-views.js';
import { decodeBase64, meshNamePattern, resourceNamePattern } from '../validate.js';

const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', pattern: resourceNamePattern }, mesh: { type: 'string', pattern: meshNamePattern } },
} as const;

/** Query strings are text (no type coercion here): `?force=true`. */
const forceQuery = { type: 'object', additionalProperties: false, properties: { force: { type: 'string', enum: ['true', 'false'] } } } as const;

const meshParams = { type: 'object', properties: { mesh: { type: 'string', pattern: meshNamePattern } } } as const;

function secretBody(type: 'GlobalSecret' | 'Secret') {
  return {
    type: 'object',
    required: ['data'],
    additionalProperties: false,
    properties: {
      type: { const: type },
      name: { type: 'string' },
      mesh: { type: 'string' },
      data: { type: 'string' },
    },
  } as const;
}

function toJson(secret: SecretResource) {
  return secret.mesh === ''
    ? { type: 'GlobalSecret', name: secret.name, data: secret.data.toString('base64') }
    : { type: 'Secret', mesh: secret.mesh, name: secret.name, data: secret.data.toString('base64') };
}

function describe(mesh: string, name: string): string {
  return mesh ? `secret ${name} in mesh ${mesh}` : `global secret ${name}`;
}

/** GlobalSecrets (`/global-secrets`) and mesh Secrets (`/meshes/{mesh}/secrets`): one implementation. */
export function registerSecretRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  const views = new SecretViews(ctx.store, ctx.families, ctx.clock.now);
  // The name only: a secret's data never reaches the audit log.
  const audited = (request: FastifyRequest, mesh: string, name: string) => (tx: StoreTx, action: AuditAction) =>
    ctx.audit.write(tx, auditEvent(request, action, describe(mesh, name)));
  const prefixes = [
    { path: '/global-secrets', type: 'GlobalSecret' as const },
    { path: '/meshes/:mesh/secrets', type: 'Secret' as const },
  ];
  for (const { path, type } of prefixes) {
    type Params = { name: string; mesh?: string };

    app.get<{ Params: { mesh?: string } }>(path, { schema: { params: meshParams } }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const items = (await views.list(request.params.mesh ?? '')).map(toJson);
      return { total: items.length, items, next: null };
    });

    app.get<{ Params: Params }>(`${path}/:name`, { schema: { params: nameParams } }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const mesh = request.params.mesh ?? '';
      const secret = await views.get(mesh, request.params.name);
      if (!secret) throw new MeshAuthError('ERR_NOT_FOUND', `${describe(mesh, request.params.name)} not found`);
      return toJson(secret);
    });

    app.put<{ Params: Params; Body: { name?: string; mesh?: string; data: string } }>(
      `${path}/:name`,
      { schema: { params: nameParams, body: secretBody(type) } },
      async (request, reply: FastifyReply) => {
        await requireAccess(ctx, request, 'adminResources');
        const mesh = request.params.mesh ?? '';
        const { name } = request.params;
        if (request.body.name !== undefined && request.body.name !== name) throw badRequest('name', `must match the name in the path (${name})`);
        if (request.body.mesh !== undefined && request.body.mesh !== mesh) throw badRequest('mesh', `must match the mesh in the path (${mesh})`);
        const created = await views.put(mesh, name, decodeBase64(request.body.data), audited(request, mesh, name));
        // A user-token key put that now signs: the stored admin token follows it (see reissueAdminToken).
        const view = ctx.families.secretView(mesh, name);
        if (view?.kind === 'key' && view.family === ctx.families.user.family && view.family.keys.signer?.serial === view.serial) await reissueAdminToken(ctx);
        request.log.info({ mesh, name, by: request.identity.name }, created ? 'secret created' : 'secret updated');
        return reply.code(created ? 201 : 200).send({});
      },
    );

    app.delete<{ Params: Params; Querystring: { force?: 'true' | 'false' } }>(`${path}/:name`, { schema: { params: nameParams, querystring: forceQuery } }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const mesh = request.params.mesh ?? '';
      await views.delete(mesh, request.params.name, audited(request, mesh, request.params.name), { force: request.query.force === 'true' });
      request.log.info({ mesh, name: request.params.name, by: request.identity.name }, 'secret deleted');
      return {};
    });
  }
}
