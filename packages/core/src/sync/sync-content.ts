/**
 * What one batch carries, in domain terms: keys to put, key serials to remove, revocations to
 * add and to remove. A snapshot carries the whole synced state; a delta carries one change set.
 */
export interface SyncKey {
  serial: number;
  publicPem: string;
  /** Only ever present when the effective mode is private. */
  privatePem?: string | undefined;
  createdAt: number;
}

export interface SyncRevocation {
  jti: string;
  /** The revoked token's exp in ms, or null when unknown. */
  expiresAt: number | null;
}

export interface SyncContent {
  keys: SyncKey[];
  removedKeySerials: number[];
  addedRevocations: SyncRevocation[];
  removedJtis: string[];
}

export type BatchKind = 'snapshot' | 'delta';

export interface BatchHeader {
  kind: BatchKind;
  /** Global's store epoch. */
  epoch: string;
  /** A delta applies on top of this version; a snapshot replaces everything. */
  fromVersion: number;
  toVersion: number;
  /** The id global gave toVersion ('' if none): the zone keeps it to say which history it applied. */
  toVersionId: string;
  /** When global committed toVersion (ms). */
  committedAt: number;
  /** A snapshot: about how many revocations it carries, said on its first chunk (absent: not said). */
  revocationsTotal?: number;
}

export function emptyContent(): SyncContent {
  return { keys: [], removedKeySerials: [], addedRevocations: [], removedJtis: [] };
}
