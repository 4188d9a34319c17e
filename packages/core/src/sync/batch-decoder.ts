import type { SyncMode } from '../config/defaults.js';
import type { Batch__Output } from '../gen/meshauth/v1/Batch.js';
import { importSigningKey, parseKeyPem, type SigningKey } from '../tokens/signing-key.js';
import type { BatchHeader } from './sync-content.js';

/** A batch a zone cannot apply; the message is the reason it nacks with. */
export class SyncBatchError extends Error {
  override readonly name = 'SyncBatchError';
}

/** A whole batch, checked and ready for `TokenFamily.write`. */
export interface DecodedBatch {
  header: BatchHeader;
  keysPut: SigningKey[];
  keysDeleted: number[];
  revocationsAdded: { jti: string; expiresAt: number | null }[];
  revocationsDeleted: string[];
}

/**
 * Collects the chunks of one batch in order; returns them all once the last arrives. Anything
 * out of order (a chunk of another batch, a skipped index) is an error, never silently merged.
 */
export class BatchAssembler {
  private chunks: Batch__Output[] = [];

  add(chunk: Batch__Output): Batch__Output[] | undefined {
    const first = this.chunks[0];
    if (chunk.chunk !== this.chunks.length || (first && (first.kind !== chunk.kind || first.toVersion !== chunk.toVersion || first.epoch !== chunk.epoch))) {
      const expected = this.chunks.length;
      this.chunks = [];
      throw new SyncBatchError(`batch ${chunk.toVersion}: got chunk ${chunk.chunk}, expected chunk ${expected} of the same batch`);
    }
    this.chunks.push(chunk);
    if (!chunk.last) return undefined;
    const done = this.chunks;
    this.chunks = [];
    return done;
  }

  reset(): void {
    this.chunks = [];
  }
}

/**
 * Checks every key and revocation of a batch before anything is written, so a batch that cannot
 * be applied changes nothing. In any mode but private, private key material is dropped: the zone
 * never stores what it did not ask for.
 */
export function decodeBatch(chunks: Batch__Output[], mode: SyncMode): DecodedBatch {
  const first = chunks[0];
  if (!first) throw new SyncBatchError('empty batch');
  if (first.kind !== 'KIND_SNAPSHOT' && first.kind !== 'KIND_DELTA') throw new SyncBatchError(`batch ${first.toVersion}: unknown kind ${first.kind}`);
  const header: BatchHeader = {
    kind: first.kind === 'KIND_SNAPSHOT' ? 'snapshot' : 'delta',
    epoch: first.epoch,
    fromVersion: first.fromVersion,
    toVersion: first.toVersion,
    committedAt: first.committedAtMs,
  };
  const out: DecodedBatch = { header, keysPut: [], keysDeleted: [], revocationsAdded: [], revocationsDeleted: [] };
  for (const chunk of chunks) {
    for (const key of chunk.keys) out.keysPut.push(decodeKey(key, mode === 'private', header.toVersion));
    out.keysDeleted.push(...chunk.removedKeySerials);
    for (const r of chunk.addedRevocations) {
      if (r.jti.length === 0 || r.jti.length > 128) throw new SyncBatchError(`batch ${header.toVersion}: revocation with an invalid jti`);
      out.revocationsAdded.push({ jti: r.jti, expiresAt: r.expiresAtMs > 0 ? r.expiresAtMs : null });
    }
    out.revocationsDeleted.push(...chunk.removedJtis);
  }
  return out;
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
