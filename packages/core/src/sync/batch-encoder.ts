import type { SyncMode } from '../config/defaults.js';
import type { Batch } from '../gen/meshauth/v1/Batch.js';
import type { BatchHeader, SyncContent } from './sync-content.js';

/** No sync message is larger than this (gRPC's default receive limit is 4 MiB; we stay at 1). */
export const MAX_SYNC_MESSAGE_BYTES = 1_048_576;
/** Room for the batch's own fields and the envelope around it. */
const HEADER_ALLOWANCE = 1_024;

// Upper bounds of each item's encoded size: field tags, length prefixes and varints at their widest.
const keyBytes = (pem: number, privatePem: number) => pem + privatePem + 48;
const revocationBytes = (jti: number) => jti + 24;
const removedJtiBytes = (jti: number) => jti + 6;
const removedSerialBytes = 6;

/**
 * Turns one batch into gRPC messages of at most `maxBytes` each, in order, the last one marked.
 * This is the one place key material is put on the wire, so it is also the one place that makes
 * sure a private key is sent only in private mode.
 */
export function encodeBatch(header: BatchHeader, content: SyncContent, mode: SyncMode, maxBytes = MAX_SYNC_MESSAGE_BYTES): Batch[] {
  const budget = maxBytes - HEADER_ALLOWANCE - header.epoch.length - header.toVersionId.length;
  const sendPrivate = mode === 'private';
  const chunks: Batch[] = [];
  let current = newChunk(header, 0);
  let used = 0;
  const room = (bytes: number) => {
    if (used + bytes > budget && used > 0) {
      chunks.push(current);
      current = newChunk(header, chunks.length);
      used = 0;
    }
    used += bytes;
  };
  for (const key of content.keys) {
    const privatePem = sendPrivate ? (key.privatePem ?? '') : '';
    room(keyBytes(key.publicPem.length, privatePem.length));
    current.keys!.push({ serial: key.serial, publicPem: key.publicPem, privatePem, createdAtMs: key.createdAt });
  }
  for (const serial of content.removedKeySerials) {
    room(removedSerialBytes);
    current.removedKeySerials!.push(serial);
  }
  for (const r of content.addedRevocations) {
    room(revocationBytes(Buffer.byteLength(r.jti)));
    current.addedRevocations!.push({ jti: r.jti, expiresAtMs: r.expiresAt ?? 0 });
  }
  for (const jti of content.removedJtis) {
    room(removedJtiBytes(Buffer.byteLength(jti)));
    current.removedJtis!.push(jti);
  }
  chunks.push(current);
  chunks[chunks.length - 1]!.last = true;
  return chunks;
}

function newChunk(header: BatchHeader, index: number): Batch {
  return {
    kind: header.kind === 'snapshot' ? 'KIND_SNAPSHOT' : 'KIND_DELTA',
    epoch: header.epoch,
    fromVersion: header.fromVersion,
    toVersion: header.toVersion,
    toVersionId: header.toVersionId,
    committedAtMs: header.committedAt,
    chunk: index,
    last: false,
    keys: [],
    removedKeySerials: [],
    addedRevocations: [],
    removedJtis: [],
  };
}
