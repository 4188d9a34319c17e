import type { Clock } from '../clock.js';
import type { AuditRow, Store, StoreTx } from '../store/store.js';
import type { AuditSink } from './audit-file-sink.js';
import { AppendBatcher } from '../store/append-batcher.js';

/** What the log records of an admin action. Names and ids only: never a token, key or secret value. */
export type AuditAction =
  | 'user-token.generate'
  | 'zone-token.generate'
  | 'dataplane-token.generate'
  | 'user-token.revoke'
  | 'signing-key.create'
  | 'signing-key.put'
  | 'signing-key.delete'
  | 'revocations.replace'
  | 'secret.put'
  | 'secret.delete'
  | 'access.refuse'
  | 'sync.accept'
  | 'sync.refuse';

/** Who acted: a user token's Name and Groups, "localhost admin", a client certificate's subject, a zone. */
export interface AuditActor {
  name: string;
  groups: string[];
}

export interface AuditEvent {
  actor: AuditActor;
  action: AuditAction;
  /** What it acted on: "user john", "global secret admin-user-token", "POST /tokens/user". */
  target: string;
  /** `success`, `refused`, or a short outcome ("revoked 3"). */
  result: string;
  requestId: string;
}

/** An entry as `GET /audit` and the file sink show it: the row, with its time in ISO 8601 and no cursor. */
export type AuditEntry = { time: string } & Omit<AuditRow, 'seq' | 'at'>;

export interface AuditLogOptions {
  store: Store;
  clock: Clock;
  plane: 'global' | 'zone';
  instance: string;
  sink?: AuditSink;
}

/**
 * The audit log: appended in the store (shared by replicas), optionally also to a file. An action
 * is never done unaudited: `write` puts the entry in the action's own transaction, so one fails
 * with the other; `append` (for actions with no transaction of their own, such as a refusal) is
 * awaited before the answer, and its failure is the answer (503).
 */
export class AuditLog {
  /** Appends of the same moment share one transaction (each still awaited, and failed, on its own). */
  private readonly appends = new AppendBatcher<AuditEvent>((events) =>
    this.options.store.transaction(async (tx) => {
      for (const event of events) await this.write(tx, event);
    }),
  );

  constructor(private readonly options: AuditLogOptions) {}

  async write(tx: StoreTx, event: AuditEvent): Promise<void> {
    const { clock, plane, instance, sink } = this.options;
    const row = { at: clock.now(), actor: event.actor.name, actorGroups: event.actor.groups, action: event.action, target: event.target, result: event.result, plane, instance, requestId: event.requestId };
    await tx.appendAudit(row);
    // Last, just before the commit: a file that cannot be written rolls the action back.
    sink?.append(toAuditEntry({ ...row, seq: 0 }));
  }

  append(event: AuditEvent): Promise<void> {
    return this.appends.add(event);
  }

  /** Drops entries older than `retentionMs`; returns how many went. */
  async prune(retentionMs: number): Promise<number> {
    const before = this.options.clock.now() - retentionMs;
    let total = 0;
    for (;;) {
      const dropped = await this.options.store.transaction((tx) => tx.pruneAudit(before, PRUNE_BATCH));
      total += dropped;
      if (dropped < PRUNE_BATCH) return total;
    }
  }
}

/** Rows per pruning transaction: the write lock is never held for long. */
const PRUNE_BATCH = 10_000;

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    time: new Date(row.at).toISOString(),
    actor: row.actor,
    actorGroups: row.actorGroups,
    action: row.action,
    target: row.target,
    result: row.result,
    plane: row.plane,
    instance: row.instance,
    requestId: row.requestId,
  };
}
