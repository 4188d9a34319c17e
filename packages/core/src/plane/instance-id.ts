import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Names this process among the replicas sharing a store, as Kuma names a control-plane instance:
 * the host name (a pod's name under Kubernetes) and a random suffix, new on every start.
 */
export function newInstanceId(): string {
  return `${hostname() || 'meshauth'}-${randomBytes(3).toString('hex')}`;
}
