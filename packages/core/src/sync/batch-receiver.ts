import type { SyncMode } from '../config/defaults.js';
import type { Batch__Output } from '../gen/meshauth/v1/Batch.js';
import type { Store } from '../store/store.js';
import { importSigningKey, parseKeyPem, type SigningKey } from '../tokens/signing-key.js';
import type { BatchHeader } from './sync-content.js';
import { RevocationSet } from '../tokens/revocation-set.js';
import { readUuids, UUID_BYTES } from '../tokens/uuid-jti.js';
import { BULK_SLICE_ROWS, yieldToLoop } from '../yield-to-loop.js';

/** A batch a zone cannot apply; the message is the reason it nacks with. */
export class SyncBatchError extends Error {
  override readonly name = 'SyncBatchError';
}

/** A whole batch, checked, ready for `TokenFamily.applySynced`. */
export interface ReceivedBatch {
  header: BatchHeader;
  keysPut: SigningKey[];
  keysDeleted: number[];
  /** A one-chunk batch (every live change) carries its revocations here... */
  revocationsAdded: { jti: string; expiresAt: number | null }[];
  revocationsDeleted: string[];
  /** ...a batch of several chunks has them staged in the store instead. */
  staged: boolean;
  /**
   * A staged snapshot's revocations as memory will hold them once it is applied, built as the
   * chunks arrive: the family takes them instead of reading a million rows back from the store.
   */
  revocationsAfter: RevocationSet | undefined;
  /** Why the batch cannot be applied (the zone nacks with it and keeps its state), if it cannot. */
  error: string | undefined;
}

/**
 * Receives the chunks of one batch in order. Keys (a handful) are checked and kept. Revocations
 * are checked and, when the batch spans several chunks (a snapshot or a big import: up to
 * millions), staged in the store chunk by chunk, so a batch of any size costs the zone one chunk
 * of memory beyond the state it ends up holding. A one-chunk batch stays in memory: staging would
 * only add commits to the path every live change takes. Anything out of order (a
 * chunk of another batch, a skipped index) throws; a chunk that does not check out makes the whole
 * batch fail once its last chunk has arrived, and nothing of it is applied.
 *
 * In any mode but private, private key material is dropped: the zone never stores what it did not ask for.
 */
export class BatchReceiver {
  private current: (ReceivedBatch & { chunks: number }) | undefined;

  constructor(private readonly store: Store) {}

  /** Chunks must be added one at a time, each after the previous one's promise settled. */
  async add(chunk: Batch__Output, mode: SyncMode): Promise<ReceivedBatch | undefined> {
    const batch = this.current ?? (await this.begin(chunk));
    if (chunk.chunk !== batch.chunks || (this.current && (chunk.kind !== protoKind(batch) || chunk.toVersion !== batch.header.toVersion || chunk.epoch !== batch.header.epoch))) {
      const expected = batch.chunks;
      this.current = undefined;
      throw new SyncBatchError(`batch ${chunk.toVersion}: got chunk ${chunk.chunk}, expected chunk ${expected} of the same batch`);
    }
    batch.chunks++;
    this.current = batch;
    if (batch.error === undefined) {
      try {
        await this.take(batch, chunk, mode);
      } catch (error) {
        if (!(error instanceof SyncBatchError)) throw error;
        batch.error = error.message;
      }
    }
    if (!chunk.last) return undefined;
    this.current = undefined;
    const { chunks: _chunks, ...received } = batch;
    return received;
  }

  private async begin(chunk: Batch__Output): Promise<ReceivedBatch & { chunks: number }> {
    const staged = !chunk.last;
    if (staged) await this.store.transaction((tx) => tx.clearStagedRevocations());
    const header: BatchHeader = {
      kind: chunk.kind === 'KIND_SNAPSHOT' ? 'snapshot' : 'delta',
      epoch: chunk.epoch,
      fromVersion: chunk.fromVersion,
      toVersion: chunk.toVersion,
      toVersionId: chunk.toVersionId,
      committedAt: chunk.committedAtMs,
    };
    const error = chunk.kind === 'KIND_SNAPSHOT' || chunk.kind === 'KIND_DELTA' ? undefined : `batch ${chunk.toVersion}: unknown kind ${chunk.kind}`;
    // Sized for what the snapshot says it carries (within the set's own limit).
    const revocationsAfter = staged && header.kind === 'snapshot' ? new RevocationSet(undefined, chunk.revocationsTotal) : undefined;
    return { header, keysPut: [], keysDeleted: [], revocationsAdded: [], revocationsDeleted: [], staged, revocationsAfter, error, chunks: 0 };
  }

  private async take(batch: ReceivedBatch, chunk: Batch__Output, mode: SyncMode): Promise<void> {
    const version = batch.header.toVersion;
    for (const key of chunk.keys) batch.keysPut.push(decodeKey(key, mode === 'private', version));
    batch.keysDeleted.push(...chunk.removedKeySerials);
    if (!batch.staged) {
      const slices = revocationSlices(chunk, version, { packedAdds: true });
      for (const rows of slices) {
        for (const row of rows) {
          if (row.op === 'put') batch.revocationsAdded.push({ jti: row.jti, expiresAt: row.expiresAt });
          else batch.revocationsDeleted.push(row.jti);
        }
      }
      return;
    }
    if (!hasRevocations(chunk)) return;
    const after = batch.revocationsAfter;
    // Packed additions without expiry times (a snapshot's bulk) go to memory and the store as the
    // bytes they came in; every other row as objects. The order stays as revocationSlices gives it.
    const packedPuts = chunk.addedUuidExpiresAtMs?.length ? undefined : packedField(chunk.addedUuidJtis, version, 'added_uuid_jtis');
    const slices = revocationSlices(chunk, version, { packedAdds: packedPuts === undefined });
    // Slice by slice (a chunk holds up to 65,000 jtis), with the event loop let through between
    // them: requests keep being answered. A jti that does not check out throws, and the staging
    // of this chunk is rolled back with it (the batch fails as a whole anyway).
    await this.store.transaction(async (tx) => {
      for (let at = 0; packedPuts && at < packedPuts.length; at += BULK_SLICE_ROWS * UUID_BYTES) {
        const part = packedPuts.subarray(at, at + BULK_SLICE_ROWS * UUID_BYTES);
        after?.addPacked(part);
        await tx.stagePackedPuts(part);
        await yieldToLoop();
      }
      for (const rows of slices) {
        if (after) {
          for (const row of rows) {
            if (row.op === 'put') after.add(row.jti);
            else after.delete(row.jti);
          }
        }
        await tx.stageRevocations(rows);
        await yieldToLoop();
      }
    });
  }
}

const hasRevocations = (chunk: Batch__Output) =>
  (chunk.addedUuidJtis?.length ?? 0) + (chunk.removedUuidJtis?.length ?? 0) + chunk.addedRevocations.length + chunk.removedJtis.length > 0;

type RevocationRow = { jti: string; op: 'put' | 'delete'; expiresAt: number | null };

/**
 * A chunk's revocations in the order they apply (a jti listed twice keeps its last operation):
 * packed additions (unless `packedAdds` is false: the caller takes them as bytes, first), other
 * additions, packed removals, other removals, `BULK_SLICE_ROWS` at a time. The packed fields'
 * sizes are checked before the first slice; each jti as its slice is read.
 */
function revocationSlices(chunk: Batch__Output, version: number, { packedAdds }: { packedAdds: boolean }): Iterable<RevocationRow[]> {
  const added = packedField(chunk.addedUuidJtis, version, 'added_uuid_jtis');
  const removed = packedField(chunk.removedUuidJtis, version, 'removed_uuid_jtis');
  const expiries = chunk.addedUuidExpiresAtMs ?? [];
  const addedCount = added.length / UUID_BYTES;
  if (expiries.length !== 0 && expiries.length !== addedCount) {
    throw new SyncBatchError(`batch ${version}: ${expiries.length} expiry times for ${addedCount} packed jtis`);
  }
  return (function* () {
    const step = BULK_SLICE_ROWS * UUID_BYTES;
    for (let at = 0; packedAdds && at < added.length; at += step) {
      const first = at / UUID_BYTES;
      yield readUuids(added.subarray(at, at + step)).map((jti, i) => {
        const ms = expiries[first + i] ?? 0;
        return { jti, op: 'put' as const, expiresAt: ms > 0 ? ms : null };
      });
    }
    for (let i = 0; i < chunk.addedRevocations.length; i += BULK_SLICE_ROWS) {
      yield chunk.addedRevocations.slice(i, i + BULK_SLICE_ROWS).map((r) => {
        checkJti(r.jti, version);
        return { jti: r.jti, op: 'put' as const, expiresAt: r.expiresAtMs > 0 ? r.expiresAtMs : null };
      });
    }
    for (let at = 0; at < removed.length; at += step) {
      yield readUuids(removed.subarray(at, at + step)).map((jti) => ({ jti, op: 'delete' as const, expiresAt: null }));
    }
    for (let i = 0; i < chunk.removedJtis.length; i += BULK_SLICE_ROWS) {
      yield chunk.removedJtis.slice(i, i + BULK_SLICE_ROWS).map((jti) => {
        checkJti(jti, version);
        return { jti, op: 'delete' as const, expiresAt: null };
      });
    }
  })();
}

/** A packed field (16 bytes per jti); one that is not a whole number of them fails the batch. */
function packedField(bytes: Buffer | undefined, version: number, field: string): Buffer {
  if (!bytes || bytes.length === 0) return Buffer.alloc(0);
  if (bytes.length % UUID_BYTES !== 0) throw new SyncBatchError(`batch ${version}: ${field} holds ${bytes.length} bytes, not a whole number of ${UUID_BYTES}-byte UUIDs`);
  return bytes;
}

const protoKind = (batch: ReceivedBatch) => (batch.header.kind === 'snapshot' ? 'KIND_SNAPSHOT' : 'KIND_DELTA');

function checkJti(jti: string, version: number): void {
  if (jti.length === 0 || jti.length > 128) throw new SyncBatchError(`batch ${version}: revocation with an invalid jti`);
}

function decodeKey(key: Batch__Output['keys'][number], keepPrivate: boolean, version: number): SigningKey {
  if (!Number.isInteger(key.serial) || key.serial < 1) throw new SyncBatchError(`batch ${version}: key with invalid serial ${key.serial}`);
  try {
    const usePrivate = keepPrivate && key.privatePem !== '';
    const { publicPem, privatePem } = parseKeyPem(usePrivate ? key.privatePem : key.publicPem);
    return importSigningKey({ serial: key.serial, publicPem, privatePem: usePrivate ? privatePem : undefined, createdAt: key.createdAtMs, origin: 'synced' });
  } catch (error) {
    throw new SyncBatchError(`batch ${version}: signing key ${key.serial} is not a usable RSA key: ${(error as Error).message}`);
  }
}
