import type { FastifyRequest } from 'fastify';
import type { AccessAction } from '../authn/access-rules.js';
import { shownPath } from '../http/request-target.js';
import { auditEvent } from './audit-actor.js';
import type { PlaneContext } from './plane-context.js';

/**
 * An admin route's access check: a refusal is audited (awaited, so one that cannot be written is
 * answered 503 instead) before the 403.
 */
export async function requireAccess(ctx: PlaneContext, request: FastifyRequest, action: AccessAction): Promise<void> {
  if (ctx.access.allows(request.identity, action)) return;
  await ctx.audit.append(auditEvent(request, 'access.refuse', `${request.method} ${shownPath(request.url)}`, `refused: not allowed to ${action}`));
  ctx.access.require(request.identity, action);
}
