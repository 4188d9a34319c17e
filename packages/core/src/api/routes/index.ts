import type { FastifyInstance } from 'fastify';
import type { PlaneContext } from '../plane-context.js';
import { registerIdentityRoutes } from './identity.js';
import { registerSecretRoutes } from './secrets.js';
import { registerSigningKeyRoutes } from './signing-keys.js';
import { registerTokenRoutes } from './tokens.js';
import { registerRevocationRoutes } from './revocations.js';
import { registerMetricsRoute } from './metrics.js';
import { registerDataplaneTokenRoutes } from './dataplane-tokens.js';
import { registerChangeRoutes } from './changes.js';
import { registerGuiRoutes } from './gui.js';
import { registerIssuedTokenRoutes } from './issued-tokens.js';
import { registerAuditRoutes } from './audit.js';

/** Routes both planes serve. */
export function registerCoreRoutes(app: FastifyInstance, ctx: PlaneContext): void {
  registerIdentityRoutes(app, ctx);
  registerTokenRoutes(app, ctx);
  registerDataplaneTokenRoutes(app, ctx);
  registerSigningKeyRoutes(app, ctx);
  registerRevocationRoutes(app, ctx);
  registerSecretRoutes(app, ctx);
  registerChangeRoutes(app, ctx);
  registerGuiRoutes(app);
  registerIssuedTokenRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  if (ctx.config.metrics.enabled) registerMetricsRoute(app, ctx);
}
