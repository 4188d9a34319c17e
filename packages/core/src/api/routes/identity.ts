import type { FastifyInstance } from 'fastify';
import { exactly, json, problems } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';

const planeInfo = exactly(
  {
    product: { const: 'meshauth' },
    version: { type: 'string' },
    plane: { enum: ['global', 'zone'] },
    instance: { type: 'string', description: 'This replica among those sharing the store' },
    store: { enum: ['sqlite', 'postgres'] },
    zone: { type: 'string', description: 'On a zone: its name' },
  },
  ['zone'],
);

const whoAmI = exactly({ name: { type: 'string' }, groups: { type: 'array', items: { type: 'string' } } });

export function registerIdentityRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get('/', { schema: { summary: 'Name, version, plane and replica', response: { 200: json('This control plane', planeInfo), ...problems() } } }, async () => ({
    product: 'meshauth',
    version: ctx.version,
    plane: ctx.plane,
    instance: ctx.instance,
    store: ctx.store.type,
    ...(ctx.zoneName ? { zone: ctx.zoneName } : {}),
  }));

  app.get('/who-am-i', { schema: { summary: "The caller's identity", response: { 200: json('Who the caller is', whoAmI), ...problems() } } }, async (request) => ({
    name: request.identity.name,
    groups: request.identity.groups,
  }));
}
