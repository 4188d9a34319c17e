import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Batch__Output } from '../gen/meshauth/v1/Batch.js';
import { generateRsaPrivateKeyPem, parseKeyPem } from '../tokens/signing-key.js';
import { BatchAssembler, decodeBatch, SyncBatchError } from './batch-decoder.js';
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

describe('batch encoding and decoding', () => {
  let privatePem: string;
  let publicPem: string;
  const header: BatchHeader = { kind: 'snapshot', epoch: 'epoch-1', fromVersion: 0, toVersion: 7, committedAt: 1_700_000_000_000 };

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

  it('never puts private key material on the wire unless the mode is private', () => {
    for (const mode of ['public', 'off'] as const) {
      const sent = wire(encodeBatch(header, content(3), mode));
      expect(JSON.stringify(sent)).not.toContain('PRIVATE KEY');
      expect(decodeBatch(sent.map((s) => s.batch), 'private').keysPut[0]!.privatePem).toBeUndefined();
    }
    const sent = wire(encodeBatch(header, content(3), 'private'));
    expect(decodeBatch(sent.map((s) => s.batch), 'private').keysPut[0]!.privatePem).toBe(privatePem);
    // A zone in public mode drops a private key even if one arrives.
    expect(decodeBatch(sent.map((s) => s.batch), 'public').keysPut[0]!.privatePem).toBeUndefined();
  });

  it('splits big batches into ordered chunks of at most 1 MiB that decode back to the same content', () => {
    const big = content(60_000);
    const sent = wire(encodeBatch(header, big, 'public'));
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(MAX_SYNC_MESSAGE_BYTES);
    expect(sent.map((s) => [s.batch.chunk, s.batch.last])).toEqual(sent.map((_, i) => [i, i === sent.length - 1]));
    const assembler = new BatchAssembler();
    const complete = sent.map((s) => assembler.add(s.batch)).at(-1)!;
    const decoded = decodeBatch(complete, 'public');
    expect(decoded.header).toEqual(header);
    expect(decoded.revocationsAdded).toEqual(big.addedRevocations);
    expect(decoded.keysDeleted).toEqual([3]);
    expect(decoded.revocationsDeleted).toEqual(['gone']);
    expect(decoded.keysPut.map((k) => [k.serial, k.origin, k.publicPem])).toEqual([[1, 'synced', publicPem]]);
  });

  it('refuses chunks out of order', () => {
    const sent = wire(encodeBatch(header, content(60_000), 'public'));
    const assembler = new BatchAssembler();
    assembler.add(sent[0]!.batch);
    expect(() => assembler.add(sent[2]!.batch)).toThrow(SyncBatchError);
  });

  it('refuses a batch with a key that is not an RSA key, naming it', () => {
    const bad = wire(encodeBatch(header, { ...content(0), keys: [{ serial: 4, publicPem: 'garbage', createdAt: 1 }] }, 'public'));
    expect(() => decodeBatch(bad.map((s) => s.batch), 'public')).toThrow(/signing key 4 is not a usable RSA key/);
  });
});
