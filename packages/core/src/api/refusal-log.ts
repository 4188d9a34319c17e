import type { FastifyInstance } from 'fastify';
import { createRefusalLogLimiter, type RefusalLogLimiter } from '../observability/refusal-log-limiter.js';
import type { PlaneContext } from './plane-context.js';

/**
 * The refusal-log limiter of one server (API listener or dp-server): summaries go to the plane's
 * log, suppressed lines to its metrics, and what is pending is summarised when the server closes.
 */
export function serverRefusalLog(app: FastifyInstance, ctx: PlaneContext): RefusalLogLimiter {
  const limiter = createRefusalLogLimiter({ logger: ctx.logger, clock: ctx.clock, suppressed: ctx.metrics.refusalLogLinesSuppressed });
  app.addHook('onClose', (_app, done) => {
    limiter.close();
    done();
  });
  return limiter;
}
