import type { FastifyInstance } from 'fastify';
import type { PlaneContext } from '../plane-context.js';

export function registerMetricsRoute(app: FastifyInstance, ctx: PlaneContext): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
