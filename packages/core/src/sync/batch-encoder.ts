import type { SyncMode } from '../config/defaults.js';
import type { Batch } from '../gen/meshauth/v1/Batch.js';
import { isCanonicalUuid, UUID_BYTES, writeUuid } from '../tokens/uuid-jti.js';
import type { BatchHeader, SyncContent, SyncKey, SyncRevocation } from './sync-content.js';

/** No sync message is larger than this (gRPC's default receive limit is 4 MiB; we stay at 1). */
export const MAX_SYNC_MESSAGE_BYTES = 1_048_576;
/** Room for the batch's own fields and the envelope around it. */
const HEADER_ALLOWANCE = 1_024;

// Upper bounds of each item's encoded size: field tags, length prefixes and varints at their widest.
const keyBytes = (pem: number, privatePem: number) => pem + privatePem + 48;
const revocationBytes = (jti: number) => jti + 24;
const removedJtiBytes = (jti: number) => jti + 6;
const removedSerialBytes = 6;
// A packed UUID: its 16 bytes, and its exp in the packed list beside (1 byte when 0, at most 10).
const uuidRevocationBytes = (expiresAt: number | null) => UUID_BYTES + (expiresAt ? 10 : 1);

/** Packed UUIDs of one chunk, grown as they come: a one-revocation delta stays small. */
class UuidRun {
  private bytes = new Uint8Array(0);
  length = 0;

  /** `jti` must be a canonical UUID. */
  push(jti: string): void {
    if (this.bytes.length < (this.length + 1) * UUID_BYTES) {
      const grown = new Uint8Array(Math.max(16 * UUID_BYTES, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    writeUuid(jti, this.bytes, this.length * UUID_BYTES);
    this.length++;
  }

  take(): Buffer {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.length * UUID_BYTES);
  }
}

interface OpenChunk {
  batch: Batch;
  added: UuidRun;
  addedExpiries: number[];
  removed: UuidRun;
}

/**
 * Builds one batch's gRPC messages item by item (a snapshot is fed from the store page by page),
 * each at most `maxBytes`, in order, the last one marked. Canonical UUID jtis go packed (see
 * sync.proto), every other jti as its string. This is the one place key material is put on the
 * wire, so it is also the one place that makes sure a private key is sent only in private mode.
 */
export class BatchEncoder {
  private readonly budget: number;
  private readonly sendPrivate: boolean;
  /** Sealed and not yet taken by `drain` or `finish`. */
  private chunks: Batch[] = [];
  private sealed = 0;
  private current: OpenChunk;
  private used = 0;

  constructor(
    private readonly header: BatchHeader,
    mode: SyncMode,
    maxBytes = MAX_SYNC_MESSAGE_BYTES,
  ) {
    this.budget = maxBytes - HEADER_ALLOWANCE - header.epoch.length - header.toVersionId.length;
    this.sendPrivate = mode === 'private';
    this.current = this.open();
  }

  addKey(key: SyncKey): void {
    const privatePem = this.sendPrivate ? (key.privatePem ?? '') : '';
    this.room(keyBytes(key.publicPem.length, privatePem.length));
    this.current.batch.keys!.push({ serial: key.serial, publicPem: key.publicPem, privatePem, createdAtMs: key.createdAt });
  }

  removeKey(serial: number): void {
    this.room(removedSerialBytes);
    this.current.batch.removedKeySerials!.push(serial);
  }

  addRevocation(r: SyncRevocation): void {
    if (isCanonicalUuid(r.jti)) {
      this.room(uuidRevocationBytes(r.expiresAt));
      this.current.added.push(r.jti);
      this.current.addedExpiries.push(r.expiresAt ?? 0);
    } else {
      this.room(revocationBytes(Buffer.byteLength(r.jti)));
      this.current.batch.addedRevocations!.push({ jti: r.jti, expiresAtMs: r.expiresAt ?? 0 });
    }
  }

  removeJti(jti: string): void {
    if (isCanonicalUuid(jti)) {
      this.room(UUID_BYTES);
      this.current.removed.push(jti);
    } else {
      this.room(removedJtiBytes(Buffer.byteLength(jti)));
      this.current.batch.removedJtis!.push(jti);
    }
  }

  /**
   * The chunks sealed since the last call, none of them the last: a snapshot's first chunks can be
   * on the wire while the rest is still read from the store.
   */
  drain(): Batch[] {
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }

  /** The chunks not yet drained, the last one marked. */
  finish(): Batch[] {
    this.current.batch.last = true;
    this.seal();
    return this.drain();
  }

  private room(bytes: number): void {
    if (this.used + bytes > this.budget && this.used > 0) {
      this.seal();
      this.current = this.open();
      this.used = 0;
    }
    this.used += bytes;
  }

  private seal(): void {
    const { batch, added, addedExpiries, removed } = this.current;
    batch.addedUuidJtis = added.take();
    batch.addedUuidExpiresAtMs = addedExpiries.some((ms) => ms !== 0) ? addedExpiries : [];
    batch.removedUuidJtis = removed.take();
    this.chunks.push(batch);
    this.sealed++;
  }

  private open(): OpenChunk {
    const { header } = this;
    const batch: Batch = {
      kind: header.kind === 'snapshot' ? 'KIND_SNAPSHOT' : 'KIND_DELTA',
      epoch: header.epoch,
      fromVersion: header.fromVersion,
      toVersion: header.toVersion,
      toVersionId: header.toVersionId,
      committedAtMs: header.committedAt,
      chunk: this.sealed,
      last: false,
      keys: [],
      removedKeySerials: [],
      addedRevocations: [],
      removedJtis: [],
      // Set only where it says something: protobufjs writes a field that is present, 0 included
      // (3 bytes on every live change).
      ...(this.sealed === 0 && header.revocationsTotal ? { revocationsTotal: header.revocationsTotal } : {}),
    };
    return { batch, added: new UuidRun(), addedExpiries: [], removed: new UuidRun() };
  }
}

/** One batch's whole content at once (a live change, a delta). */
export function encodeBatch(header: BatchHeader, content: SyncContent, mode: SyncMode, maxBytes = MAX_SYNC_MESSAGE_BYTES): Batch[] {
  const encoder = new BatchEncoder(header, mode, maxBytes);
  for (const key of content.keys) encoder.addKey(key);
  for (const serial of content.removedKeySerials) encoder.removeKey(serial);
  for (const r of content.addedRevocations) encoder.addRevocation(r);
  for (const jti of content.removedJtis) encoder.removeJti(jti);
  return encoder.finish();
}
