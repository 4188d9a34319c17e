import type { FastifyInstance } from 'fastify';
import { problems, text } from '../openapi/responses.js';
import type { PlaneContext } from '../plane-context.js';

export function registerMetricsRoute(app: FastifyInstance, ctx: PlaneContext): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', response: { 200: text('Prometheus text exposition format 0.0.4'), ...problems() } } }, async (_request, reply) => {
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
