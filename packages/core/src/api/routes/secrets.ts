import type { FastifyInstance, FastifyReply } from 'fastify';
import { MeshAuthError, invalidFields, type InvalidParameter } from '../../errors.js';
import type { FastifyRequest } from 'fastify';
import type { AuditAction } from '../../audit/audit-log.js';
import type { StoreTx } from '../../store/store.js';
import { auditEvent } from '../audit-actor.js';
import { reissueAdminToken } from '../../plane/bootstrap-credentials.js';
import type { PlaneContext } from '../plane-context.js';
import { requireAccess } from '../require-access.js';
import { SecretViews, type SecretResource } from '../secret-views.js';
import { emptyObject, exactly, json, problems } from '../openapi/responses.js';
import { base64Schema, decodeBase64InSlices, meshNamePattern, resourceNamePattern } from '../validate.js';

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
      name: { type: 'string', description: 'If given, the name in the path' },
      mesh: { type: 'string', description: 'If given, the mesh in the path' },
      data: base64Schema,
    },
  } as const;
}

const globalSecret = exactly({ type: { const: 'GlobalSecret' }, name: { type: 'string' }, data: { type: 'string', description: 'base64' } });
const meshSecret = exactly({ type: { const: 'Secret' }, mesh: { type: 'string' }, name: { type: 'string' }, data: { type: 'string', description: 'base64' } });

function secretSchemas(type: 'GlobalSecret' | 'Secret') {
  const resource = type === 'GlobalSecret' ? globalSecret : meshSecret;
  const what = type === 'GlobalSecret' ? 'global secret' : 'secret of the mesh';
  const params = type === 'GlobalSecret' ? { type: 'object', properties: { name: nameParams.properties.name }, required: ['name'] } : { ...nameParams, required: ['mesh', 'name'] };
  return {
    list: {
      summary: `List every ${what}`,
      ...(type === 'Secret' ? { params: { ...meshParams, required: ['mesh'] } } : {}),
      response: { 200: json('Every one', exactly({ total: { type: 'integer', minimum: 0 }, items: { type: 'array', items: resource }, next: { type: 'null' } })), ...problems(400, 403, 503) },
    },
    get: { summary: `Read a ${what}`, params, response: { 200: json(type, resource), ...problems(400, 403, 404, 503) } },
    put: {
      summary: `Create or replace a ${what}`,
      params,
      body: secretBody(type),
      response: { 200: json('Replaced', emptyObject), 201: json('Created', emptyObject), ...problems(400, 403, 409, 413, 503) },
    },
    delete: {
      summary: `Delete a ${what}`,
      params,
      querystring: forceQuery,
      response: { 200: json('Deleted', emptyObject), ...problems(400, 403, 404, 409, 503) },
    },
  };
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
    const schemas = secretSchemas(type);

    app.get<{ Params: { mesh?: string } }>(path, { schema: schemas.list }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const items = (await views.list(request.params.mesh ?? '')).map(toJson);
      return { total: items.length, items, next: null };
    });

    app.get<{ Params: Params }>(`${path}/:name`, { schema: schemas.get }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const mesh = request.params.mesh ?? '';
      const secret = await views.get(mesh, request.params.name);
      if (!secret) throw new MeshAuthError('ERR_NOT_FOUND', `${describe(mesh, request.params.name)} not found`);
      return toJson(secret);
    });

    app.put<{ Params: Params; Body: { name?: string; mesh?: string; data: string } }>(
      `${path}/:name`,
      { schema: schemas.put },
      async (request, reply: FastifyReply) => {
        await requireAccess(ctx, request, 'adminResources');
        const mesh = request.params.mesh ?? '';
        const { name } = request.params;
        const mismatched: InvalidParameter[] = [];
        if (request.body.name !== undefined && request.body.name !== name) mismatched.push({ field: 'name', reason: `must match the name in the path (${name})` });
        if (request.body.mesh !== undefined && request.body.mesh !== mesh) mismatched.push({ field: 'mesh', reason: `must match the mesh in the path (${mesh})` });
        if (mismatched.length > 0) throw invalidFields('body', mismatched);
        const created = await views.put(mesh, name, await decodeBase64InSlices(request.body.data), audited(request, mesh, name));
        // A user-token key put that now signs: the stored admin token follows it (see reissueAdminToken).
        const view = ctx.families.secretView(mesh, name);
        if (view?.kind === 'key' && view.family === ctx.families.user.family && view.family.keys.signer?.serial === view.serial) await reissueAdminToken(ctx);
        request.log.info({ mesh, name, by: request.identity.name }, created ? 'secret created' : 'secret updated');
        return reply.code(created ? 201 : 200).send({});
      },
    );

    app.delete<{ Params: Params; Querystring: { force?: 'true' | 'false' } }>(`${path}/:name`, { schema: schemas.delete }, async (request) => {
      await requireAccess(ctx, request, 'adminResources');
      const mesh = request.params.mesh ?? '';
      await views.delete(mesh, request.params.name, audited(request, mesh, request.params.name), { force: request.query.force === 'true' });
      request.log.info({ mesh, name: request.params.name, by: request.identity.name }, 'secret deleted');
      return {};
    });
  }
}
