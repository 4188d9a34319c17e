import type { FastifyInstance } from 'fastify';
import type { PlaneContext } from '../plane-context.js';

export function registerIdentityRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  app.get('/', async () => ({
    product: 'meshauth',
    version: ctx.version,
    plane: ctx.plane,
    instance: ctx.instance,
    store: ctx.store.type,
    ...(ctx.zoneName ? { zone: ctx.zoneName } : {}),
  }));

  app.get('/who-am-i', async (request) => ({ name: request.identity.name, groups: request.identity.groups }));
}
