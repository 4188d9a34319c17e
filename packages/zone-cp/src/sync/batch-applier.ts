import { decodeBatch, SyncBatchError, type Batch__Output, type Clock, type SyncMode, type TokenFamily } from '@meshauth/core';
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
    private readonly state: SyncedState,
    private readonly clock: Clock,
  ) {}

  apply(chunks: Batch__Output[], mode: SyncMode): ApplyResult {
    const version = chunks[0]?.toVersion ?? 0;
    let decoded;
    try {
      decoded = decodeBatch(chunks, mode);
    } catch (error) {
      if (error instanceof SyncBatchError) return { ok: false, version, reason: error.message, reconnect: false };
      throw error;
    }
    const { header } = decoded;
    if (header.kind === 'delta' && (header.epoch !== this.state.epoch || header.fromVersion !== this.state.appliedVersion || this.state.appliedMode !== mode)) {
      return {
        ok: false,
        version,
        reason: `delta ${header.fromVersion}→${header.toVersion} does not start at this zone's version ${this.state.appliedVersion}; resyncing`,
        reconnect: true,
      };
    }
    const now = this.clock.now();
    this.family.write({
      keysPut: decoded.keysPut,
      keysDeleted: decoded.keysDeleted,
      revocationsAdded: decoded.revocationsAdded,
      revocationsDeleted: decoded.revocationsDeleted,
      replace: header.kind === 'snapshot',
      origin: 'synced',
      alsoInTransaction: () => this.state.recordApplied(header.epoch, header.toVersion, mode, now),
    });
    this.state.applied(header.epoch, header.toVersion, mode, now);
    return { ok: true, version: header.toVersion };
  }
}
