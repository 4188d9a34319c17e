import { BatchReceiver, type Clock, type ReceivedBatch, type Store, type SyncMode, type TokenFamily } from '@meshauth/core';
import type { SyncedState } from './synced-state.js';

export type ApplyResult = { ok: true; version: number } | { ok: false; version: number; reason: string; reconnect: boolean };

/**
 * Applies one whole batch from global to the zone's user-token family: checked first, then
 * written in ONE transaction together with the version it brings the zone to. A batch that does
 * not fit (bad key, a delta that does not start where the zone stands) changes nothing.
 */
export class BatchApplier {
  constructor(
    private readonly family: TokenFamily,
    private readonly store: Store,
    private readonly state: SyncedState,
    private readonly clock: Clock,
  ) {}

  /** One per stream: chunks of a batch never span streams. */
  newReceiver(): BatchReceiver {
    return new BatchReceiver(this.store);
  }

  async apply(received: ReceivedBatch, mode: SyncMode): Promise<ApplyResult> {
    const { header } = received;
    const version = header.toVersion;
    if (received.error !== undefined) return { ok: false, version, reason: received.error, reconnect: false };
    if (header.kind === 'delta' && (header.epoch !== this.state.epoch || header.fromVersion !== this.state.appliedVersion || this.state.appliedMode !== mode)) {
      return {
        ok: false,
        version,
        reason: `delta ${header.fromVersion}→${header.toVersion} does not start at this zone's version ${this.state.appliedVersion}; resyncing`,
        reconnect: true,
      };
    }
    const now = this.clock.now();
    await this.family.applySynced(
      {
        replace: header.kind === 'snapshot',
        keysPut: received.keysPut,
        keysDeleted: received.keysDeleted,
        revocationsAdded: received.revocationsAdded,
        revocationsDeleted: received.revocationsDeleted,
        staged: received.staged,
        revocationsAfter: received.revocationsAfter,
      },
      (tx) => this.state.recordApplied(tx, header.epoch, header.toVersion, header.toVersionId, mode, now),
    );
    this.state.applied(header.epoch, header.toVersion, header.toVersionId, mode, now);
    return { ok: true, version: header.toVersion };
  }
}
