import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { AuditActor, AuditAction, AuditEvent } from '../audit/audit-log.js';
import { admin } from '../authn/identity.js';
import type { StoreTx } from '../store/store.js';
import type { PlaneContext } from './plane-context.js';

/**
 * Who made a request, as the audit log names them. The built-in admin identity comes from two
 * places, told apart here: a verified client certificate (named by its subject) or a request
 * from this machine ("localhost admin"). A user token's Name is the actor otherwise.
 */
export function actorOf(request: FastifyRequest): AuditActor {
  const { identity } = request;
  if (identity !== admin) return { name: identity.name, groups: [...identity.groups] };
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (socket.encrypted === true && socket.authorized === true) {
    const subject = socket.getPeerCertificate?.()?.subject;
    const shown = subject ? Object.entries(subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(',') : '';
    if (shown) return { name: `client certificate ${shown}`, groups: [...admin.groups] };
  }
  return { name: 'localhost admin', groups: [...admin.groups] };
}

export function auditEvent(request: FastifyRequest, action: AuditAction, target: string, result = 'success'): AuditEvent {
  return { actor: actorOf(request), action, target, result, requestId: request.id };
}

/** The audit entry of an action, to be written in the action's own transaction. */
export function auditIn(ctx: PlaneContext, request: FastifyRequest, action: AuditAction, target: string, result = 'success'): (tx: StoreTx) => Promise<void> {
  return (tx) => ctx.audit.write(tx, auditEvent(request, action, target, result));
}
