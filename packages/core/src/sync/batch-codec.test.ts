import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Batch__Output } from '../gen/meshauth/v1/Batch.js';
import { generateRsaPrivateKeyPem, parseKeyPem } from '../tokens/signing-key.js';
import type { SyncMode } from '../config/defaults.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { BatchReceiver, SyncBatchError, type ReceivedBatch } from './batch-receiver.js';
import { encodeBatch, MAX_SYNC_MESSAGE_BYTES } from './batch-encoder.js';
import type { BatchHeader, SyncContent } from './sync-content.js';
import { syncProto } from './sync-proto.js';

/** Through the real protobuf codec, as on the wire. */
const wire = (batches: ReturnType<typeof encodeBatch>) => {
  const method = syncProto().GlobalSync.service.Sync;
  return batches.map((batch) => {
    const bytes = method.responseSerialize({ batch });
    return { bytes: bytes.length, batch: method.responseDeserialize(bytes).batch! as Batch__Output };
  });
};

/** Feeds every chunk to a receiver; the batch it returns at the last chunk. */
const receive = async (receiver: BatchReceiver, sent: { batch: Batch__Output }[], mode: SyncMode): Promise<ReceivedBatch> => {
  let received: ReceivedBatch | undefined;
  for (const s of sent) received = await receiver.add(s.batch, mode);
  return received!;
};

describe('batch encoding and receiving', () => {
  let store: SqliteStore;
  let receiver: BatchReceiver;
  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    receiver = new BatchReceiver(store);
  });
  afterEach(() => store.close());
  /** What the staging table holds (read on the writer connection: `:memory:` has no other). */
  const staged = () => store.db.prepare('SELECT jti, op FROM staged_revocations').all() as { jti: string; op: 'put' | 'delete' }[];

  let privatePem: string;
  let publicPem: string;
  const header: BatchHeader = { kind: 'snapshot', epoch: 'epoch-1', fromVersion: 0, toVersion: 7, toVersionId: '0f1e2d3c4b5a6978', committedAt: 1_700_000_000_000 };

  beforeAll(async () => {
    privatePem = await generateRsaPrivateKeyPem();
    publicPem = parseKeyPem(privatePem).publicPem;
  });

  const content = (revocations: number): SyncContent => ({
    keys: [{ serial: 1, publicPem, privatePem, createdAt: 1 }],
    removedKeySerials: [3],
    addedRevocations: Array.from({ length: revocations }, (_, i) => ({ jti: randomUUID(), expiresAt: i % 2 ? null : 2_000_000_000_000 })),
    removedJtis: ['gone'],
  });

  it('never puts private key material on the wire unless the mode is private', async () => {
    for (const mode of ['public', 'off'] as const) {
      const sent = wire(encodeBatch(header, content(3), mode));
      expect(JSON.stringify(sent)).not.toContain('PRIVATE KEY');
      expect((await receive(receiver, sent, 'private')).keysPut[0]!.privatePem).toBeUndefined();
    }
    const sent = wire(encodeBatch(header, content(3), 'private'));
    expect((await receive(receiver, sent, 'private')).keysPut[0]!.privatePem).toBe(privatePem);
    // A zone in public mode drops a private key even if one arrives.
    expect((await receive(receiver, sent, 'public')).keysPut[0]!.privatePem).toBeUndefined();
  });

  it('splits big batches into ordered chunks of at most 1 MiB that arrive as the same content, revocations staged in the store', async () => {
    const big = content(60_000);
    const sent = wire(encodeBatch(header, big, 'public'));
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(MAX_SYNC_MESSAGE_BYTES);
    expect(sent.map((s) => [s.batch.chunk, s.batch.last])).toEqual(sent.map((_, i) => [i, i === sent.length - 1]));
    const beforeLast: (ReceivedBatch | undefined)[] = [];
    for (const s of sent.slice(0, -1)) beforeLast.push(await receiver.add(s.batch, 'public'));
    expect(beforeLast).toEqual(sent.slice(0, -1).map(() => undefined));
    const received = (await receiver.add(sent.at(-1)!.batch, 'public'))!;
    expect(received.error).toBeUndefined();
    expect(received.header).toEqual(header);
    expect(received.keysDeleted).toEqual([3]);
    expect(received.keysPut.map((k) => [k.serial, k.origin, k.publicPem])).toEqual([[1, 'synced', publicPem]]);
    const rows = staged();
    expect(rows.filter((r) => r.op === 'put').map((r) => r.jti).sort()).toEqual(big.addedRevocations.map((r) => r.jti).sort());
    expect(rows.filter((r) => r.op === 'delete').map((r) => r.jti)).toEqual(['gone']);
    expect(received.staged).toBe(true);
    expect(received.revocationsAdded).toEqual([]);
    // The next batch of several chunks starts from an empty staging table.
    const next = content(60_000);
    await receive(receiver, wire(encodeBatch({ ...header, toVersion: 8 }, next, 'public')), 'public');
    expect(staged().filter((r) => r.op === 'put').map((r) => r.jti).sort()).toEqual(next.addedRevocations.map((r) => r.jti).sort());
  });

  it('keeps a one-chunk batch (every live change) in memory, staging nothing', async () => {
    const small = content(3);
    const sent = wire(encodeBatch({ ...header, kind: 'delta', fromVersion: 6 }, small, 'public'));
    expect(sent).toHaveLength(1);
    const received = await receive(receiver, sent, 'public');
    expect(received.staged).toBe(false);
    expect(received.revocationsAdded).toEqual(small.addedRevocations);
    expect(received.revocationsDeleted).toEqual(['gone']);
    expect(staged()).toEqual([]);
  });

  it('refuses chunks out of order', async () => {
    const sent = wire(encodeBatch(header, content(60_000), 'public'));
    await receiver.add(sent[0]!.batch, 'public');
    await expect(receiver.add(sent[2]!.batch, 'public')).rejects.toThrow(SyncBatchError);
  });

  it('refuses a batch with a key that is not an RSA key, naming it', async () => {
    const bad = wire(encodeBatch(header, { ...content(0), keys: [{ serial: 4, publicPem: 'garbage', createdAt: 1 }] }, 'public'));
    expect((await receive(receiver, bad, 'public')).error).toMatch(/signing key 4 is not a usable RSA key/);
  });
});
