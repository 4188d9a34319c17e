import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Batch, Batch__Output } from '../gen/meshauth/v1/Batch.js';
import { generateRsaPrivateKeyPem, parseKeyPem } from '../tokens/signing-key.js';
import type { SyncMode } from '../config/defaults.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { BatchReceiver, SyncBatchError, type ReceivedBatch } from './batch-receiver.js';
import { BatchEncoder, encodeBatch, MAX_SYNC_MESSAGE_BYTES } from './batch-encoder.js';
import type { BatchHeader, SyncContent } from './sync-content.js';
import { syncProto } from './sync-proto.js';

/** MESHAUTH_TEST_SCALE (1 unless set; a tenth under `pnpm test:mutation`) shrinks the bulk tests. */
const BULK_SCALE = Number(process.env.MESHAUTH_TEST_SCALE ?? 1);

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

  const content = (revocations: number, jti: () => string = randomUUID): SyncContent => ({
    keys: [{ serial: 1, publicPem, privatePem, createdAt: 1 }],
    removedKeySerials: [3],
    addedRevocations: Array.from({ length: revocations }, (_, i) => ({ jti: jti(), expiresAt: i % 2 ? null : 2_000_000_000_000 + i })),
    removedJtis: ['gone'],
  });
  /**
   * Content that spans four chunks: 150,000 UUID jtis, or, under `pnpm test:mutation` (where each
   * covering test runs once per mutant, MESHAUTH_TEST_SCALE below 1), 25,000 jtis of 128 characters.
   */
  const bulkContent = () => (BULK_SCALE < 1 ? content(25_000, () => randomUUID().padEnd(128, 'x')) : content(150_000));

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
    // A canonical UUID among the removed jtis travels packed (removed_uuid_jtis), and is staged as a delete too.
    const removedUuid = randomUUID();
    const big = { ...bulkContent(), removedJtis: ['gone', removedUuid] };
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
    expect(rows.filter((r) => r.op === 'delete').map((r) => r.jti).sort()).toEqual(['gone', removedUuid].sort());
    // Each jti keeps its own expiry, across the slices a chunk is staged in (every other one has one).
    const byJti = (a: { jti: string }, b: { jti: string }) => (a.jti < b.jti ? -1 : 1);
    const stagedPuts = store.db.prepare("SELECT jti, expires_at AS expiresAt FROM staged_revocations WHERE op = 'put'").all() as { jti: string; expiresAt: number | null }[];
    expect(stagedPuts.sort(byJti)).toEqual([...big.addedRevocations].sort(byJti));
    expect(received.staged).toBe(true);
    expect(received.revocationsAdded).toEqual([]);
    // A staged snapshot also arrives as the set memory will hold: what was put, less what was removed.
    expect([...received.revocationsAfter!.sortedValues()]).toEqual(big.addedRevocations.map((r) => r.jti).sort());
    // The next batch of several chunks starts from an empty staging table; a staged delta builds no set.
    const next = bulkContent();
    const delta = await receive(receiver, wire(encodeBatch({ ...header, kind: 'delta', fromVersion: 7, toVersion: 8 }, next, 'public')), 'public');
    expect(staged().filter((r) => r.op === 'put').map((r) => r.jti).sort()).toEqual(next.addedRevocations.map((r) => r.jti).sort());
    expect(delta.staged).toBe(true);
    expect(delta.revocationsAfter).toBeUndefined();
  });

  it('says a snapshot’s revocation count on its first chunk only; a zone takes any count, a wrong or huge one too', async () => {
    const big = bulkContent();
    const sent = wire(encodeBatch({ ...header, revocationsTotal: big.addedRevocations.length }, big, 'public'));
    expect(sent.map((s) => s.batch.revocationsTotal)).toEqual(sent.map((_, i) => (i === 0 ? big.addedRevocations.length : 0)));
    // Not on the wire where it says nothing: a live change is as small as before.
    const live = { keys: [], removedKeySerials: [], addedRevocations: [{ jti: randomUUID(), expiresAt: null }], removedJtis: [] };
    expect(wire(encodeBatch({ ...header, revocationsTotal: 0 }, live, 'public'))[0]!.bytes).toBe(wire(encodeBatch(header, live, 'public'))[0]!.bytes);
    expect(wire(encodeBatch({ ...header, revocationsTotal: 1 }, live, 'public'))[0]!.bytes).toBe(wire(encodeBatch(header, live, 'public'))[0]!.bytes + 3);
    for (const said of [3, Number.MAX_SAFE_INTEGER]) {
      sent[0]!.batch.revocationsTotal = said;
      const received = await receive(receiver, sent, 'public');
      expect(received.error).toBeUndefined();
      expect(received.revocationsAfter!.size).toBe(big.addedRevocations.length);
      expect([...received.revocationsAfter!.sortedValues()]).toEqual(big.addedRevocations.map((r) => r.jti).sort());
    }
  });

  it('keeps a one-chunk batch (every live change) in memory, staging nothing', async () => {
    const small = content(3);
    const sent = wire(encodeBatch({ ...header, kind: 'delta', fromVersion: 6 }, small, 'public'));
    expect(sent).toHaveLength(1);
    const received = await receive(receiver, sent, 'public');
    expect(received.staged).toBe(false);
    expect(received.revocationsAfter).toBeUndefined();
    expect(received.revocationsAdded).toEqual(small.addedRevocations);
    expect(received.revocationsDeleted).toEqual(['gone']);
    expect(staged()).toEqual([]);
  });

  it('refuses chunks out of order', async () => {
    const sent = wire(encodeBatch(header, bulkContent(), 'public'));
    await receiver.add(sent[0]!.batch, 'public');
    await expect(receiver.add(sent[2]!.batch, 'public')).rejects.toThrow(SyncBatchError);
  });

  it('refuses a batch with a key that is not an RSA key, naming it', async () => {
    const bad = wire(encodeBatch(header, { ...content(0), keys: [{ serial: 4, publicPem: 'garbage', createdAt: 1 }] }, 'public'));
    expect((await receive(receiver, bad, 'public')).error).toMatch(/signing key 4 is not a usable RSA key/);
  });
});

describe('batch headers and order', () => {
  let store: SqliteStore;
  let receiver: BatchReceiver;
  let publicPem: string;
  beforeAll(async () => {
    publicPem = parseKeyPem(await generateRsaPrivateKeyPem()).publicPem;
  });
  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    receiver = new BatchReceiver(store);
  });
  afterEach(() => store.close());

  const snapshot: BatchHeader = { kind: 'snapshot', epoch: 'epoch-1', fromVersion: 0, toVersion: 7, toVersionId: '0f1e2d3c4b5a6978', committedAt: 1_700_000_000_000 };
  const delta: BatchHeader = { kind: 'delta', epoch: 'epoch-1', fromVersion: 6, toVersion: 7, toVersionId: '8796a5b4c3d2e1f0', committedAt: 1_700_000_000_500 };
  /** Small chunks, so a few hundred revocations make a batch of several. */
  const chunked = (h: BatchHeader, content: SyncContent) => wire(encodeBatch(h, content, 'public', 4_096));
  const revoking = (count: number): SyncContent => ({
    keys: [],
    removedKeySerials: [],
    addedRevocations: Array.from({ length: count }, () => ({ jti: randomUUID(), expiresAt: null })),
    removedJtis: [],
  });

  it.each([
    ['a snapshot', snapshot],
    ['a delta', delta],
  ])('receives %s as sent, in one chunk and in several', async (_what, header) => {
    for (const content of [revoking(1), revoking(800)]) {
      const sent = chunked(header, content);
      expect(sent.map((s) => s.batch.kind)).toEqual(sent.map(() => (header.kind === 'snapshot' ? 'KIND_SNAPSHOT' : 'KIND_DELTA')));
      expect((await receive(receiver, sent, 'public')).header).toEqual(header);
    }
  });

  it('refuses, mid-batch, a chunk of another epoch, version or kind, and then takes a new batch from chunk 0', async () => {
    const sent = chunked(snapshot, revoking(800));
    expect(sent.length).toBeGreaterThan(2);
    for (const other of [{ ...snapshot, epoch: 'epoch-2' }, { ...snapshot, toVersion: 8 }, { ...snapshot, kind: 'delta' as const }]) {
      const foreign = chunked(other, revoking(800));
      expect(await receiver.add(sent[0]!.batch, 'public')).toBeUndefined();
      await expect(receiver.add(foreign[1]!.batch, 'public')).rejects.toThrow(new SyncBatchError(`batch ${other.toVersion}: got chunk 1, expected chunk 1 of the same batch`));
      // The refused batch is dropped whole: its next chunk does not continue it either.
      await expect(receiver.add(sent[1]!.batch, 'public')).rejects.toThrow(SyncBatchError);
      const received = (await receive(receiver, sent, 'public'));
      expect({ header: received.header, error: received.error }).toEqual({ header: snapshot, error: undefined });
    }
  });

  it('refuses a batch that does not start at chunk 0, or that repeats a chunk', async () => {
    const sent = chunked(snapshot, revoking(800));
    await expect(receiver.add(sent[1]!.batch, 'public')).rejects.toThrow(new SyncBatchError('batch 7: got chunk 1, expected chunk 0 of the same batch'));
    await receiver.add(sent[0]!.batch, 'public');
    await expect(receiver.add(sent[0]!.batch, 'public')).rejects.toThrow(new SyncBatchError('batch 7: got chunk 0, expected chunk 1 of the same batch'));
  });

  it('fails a batch of an unknown kind once its last chunk is in', async () => {
    const [chunk] = wire(encodeBatch(snapshot, revoking(1), 'public'));
    expect((await receiver.add({ ...chunk!.batch, kind: 'KIND_UNSPECIFIED' }, 'public'))!.error).toBe('batch 7: unknown kind KIND_UNSPECIFIED');
  });

  it.each([
    ['added', (jti: string): SyncContent => ({ ...revoking(0), addedRevocations: [{ jti, expiresAt: null }] })],
    ['removed', (jti: string): SyncContent => ({ ...revoking(0), removedJtis: [jti] })],
  ])('fails a batch with an %s revocation whose jti is empty or over 128 characters', async (_what, content) => {
    for (const [jti, error] of [
      ['', 'batch 7: revocation with an invalid jti'],
      ['j'.repeat(129), 'batch 7: revocation with an invalid jti'],
      ['j'.repeat(128), undefined],
      ['j', undefined],
    ] as const) {
      expect((await receive(receiver, wire(encodeBatch(snapshot, content(jti), 'public')), 'public')).error).toBe(error);
    }
  });

  it('fails a batch with a key serial that is not a positive integer', async () => {
    const [chunk] = wire(encodeBatch(snapshot, { ...revoking(0), keys: [{ serial: 1, publicPem, createdAt: 1 }] }, 'public'));
    for (const serial of [0, -1, 1.5]) {
      const batch = { ...chunk!.batch, keys: [{ ...chunk!.batch.keys[0]!, serial }] };
      expect((await receiver.add(batch, 'public'))!.error).toBe(`batch 7: key with invalid serial ${serial}`);
    }
    expect((await receiver.add(chunk!.batch, 'public'))!.keysPut.map((k) => k.serial)).toEqual([1]);
  });

  it('keeps the reason of the first chunk that fails, and still takes the chunks after it in order', async () => {
    const content = revoking(800);
    content.keys = [{ serial: 4, publicPem: 'garbage', createdAt: 1 }];
    content.removedJtis = [''];
    const sent = chunked(snapshot, content);
    expect(sent.length).toBeGreaterThan(1);
    const received = (await receive(receiver, sent, 'public'));
    expect(received.error).toMatch(/^batch 7: signing key 4 is not a usable RSA key/);
  });

  it('names its refusals SyncBatchError', async () => {
    const [, second] = chunked(snapshot, revoking(800));
    await expect(receiver.add(second!.batch, 'public')).rejects.toThrow(expect.objectContaining({ name: 'SyncBatchError' }));
  });

  it('lets an error of the store through instead of taking it for a bad batch', async () => {
    const sent = chunked(snapshot, revoking(800));
    await receiver.add(sent[0]!.batch, 'public');
    await store.close();
    await expect(receiver.add(sent[1]!.batch, 'public')).rejects.toThrow(expect.not.objectContaining({ name: 'SyncBatchError' }));
    store = SqliteStore.open(':memory:');
  });

  it('takes a verify-only key in private mode as verify-only', async () => {
    const sent = wire(encodeBatch(snapshot, { ...revoking(0), keys: [{ serial: 2, publicPem, createdAt: 5 }] }, 'private'));
    const [key] = (await receive(receiver, sent, 'private')).keysPut;
    expect({ serial: key!.serial, publicPem: key!.publicPem, privatePem: key!.privatePem, hasPrivate: key!.privateKey !== undefined, createdAt: key!.createdAt, origin: key!.origin }).toEqual({
      serial: 2,
      publicPem,
      privatePem: undefined,
      hasPrivate: false,
      createdAt: 5,
      origin: 'synced',
    });
  });
});

describe('packed UUID jtis on the wire', () => {
  let store: SqliteStore;
  let receiver: BatchReceiver;
  beforeEach(() => {
    store = SqliteStore.open(':memory:');
    receiver = new BatchReceiver(store);
  });
  afterEach(() => store.close());
  const header: BatchHeader = { kind: 'delta', epoch: 'e', fromVersion: 1, toVersion: 2, toVersionId: 'v', committedAt: 1 };
  const lower = randomUUID();
  const mixed: SyncContent = {
    keys: [],
    removedKeySerials: [],
    addedRevocations: [
      { jti: lower, expiresAt: 2_000_000_000_000 },
      { jti: lower.toUpperCase(), expiresAt: null },
      { jti: 'not-a-uuid', expiresAt: 5 },
      { jti: randomUUID(), expiresAt: null },
    ],
    removedJtis: [randomUUID(), 'gone', randomUUID().toUpperCase()],
  };

  it('packs canonical UUIDs as 16 bytes each and sends every other jti as its string, losing nothing', async () => {
    const [sent] = wire(encodeBatch(header, mixed, 'public'));
    expect(sent!.batch.addedUuidJtis).toHaveLength(32);
    expect(sent!.batch.addedUuidExpiresAtMs).toEqual([2_000_000_000_000, 0]);
    expect(sent!.batch.addedRevocations.map((r) => r.jti)).toEqual([lower.toUpperCase(), 'not-a-uuid']);
    expect(sent!.batch.removedUuidJtis).toHaveLength(16);
    expect(sent!.batch.removedJtis).toEqual(['gone', mixed.removedJtis[2]]);
    const received = await receive(receiver, [sent!], 'public');
    const byJti = (list: { jti: string }[]) => [...list].sort((a, b) => a.jti.localeCompare(b.jti));
    expect(byJti(received.revocationsAdded)).toEqual(byJti(mixed.addedRevocations));
    expect([...received.revocationsDeleted].sort()).toEqual([...mixed.removedJtis].sort());
  });

  it('sends no expiry list when no packed jti has one', () => {
    const [sent] = wire(encodeBatch(header, { ...mixed, addedRevocations: [{ jti: randomUUID(), expiresAt: null }] }, 'public'));
    expect(sent!.batch.addedUuidExpiresAtMs).toEqual([]);
  });

  it('takes a million-revocation snapshot in under 20 MB of messages (36-character strings took 42 MB)', () => {
    const count = 1_000_000 * BULK_SCALE;
    const jtis = Array.from({ length: count }, () => ({ jti: randomUUID(), expiresAt: null }));
    const sent = wire(encodeBatch({ ...header, kind: 'snapshot' }, { keys: [], removedKeySerials: [], addedRevocations: jtis, removedJtis: [] }, 'public'));
    const bytes = sent.reduce((sum, s) => sum + s.bytes, 0);
    expect(bytes).toBeGreaterThan(16 * count);
    expect(bytes).toBeLessThan(17 * count);
    for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(MAX_SYNC_MESSAGE_BYTES);
  });

  it('fails a batch whose packed field is not a whole number of UUIDs, or whose expiry list does not match it', async () => {
    const [sent] = wire(encodeBatch(header, mixed, 'public'));
    const cut = { ...sent!.batch, addedUuidJtis: sent!.batch.addedUuidJtis.subarray(0, 20) };
    expect((await receiver.add(cut, 'public'))!.error).toBe('batch 2: added_uuid_jtis holds 20 bytes, not a whole number of 16-byte UUIDs');
    const removed = { ...sent!.batch, removedUuidJtis: Buffer.alloc(15) };
    expect((await receiver.add(removed, 'public'))!.error).toBe('batch 2: removed_uuid_jtis holds 15 bytes, not a whole number of 16-byte UUIDs');
    const expiries = { ...sent!.batch, addedUuidExpiresAtMs: [1, 2, 3] };
    expect((await receiver.add(expiries, 'public'))!.error).toBe('batch 2: 3 expiry times for 2 packed jtis');
  });
});

describe('encodeBatch chunk sizes', () => {
  let spki: string;
  beforeAll(async () => {
    spki = parseKeyPem(await generateRsaPrivateKeyPem()).publicPem;
  });
  const header = (epoch: string, toVersionId: string): BatchHeader => ({ kind: 'delta', epoch, fromVersion: 1, toVersion: 2, toVersionId, committedAt: 1 });
  const jtis = (count: number, length: number) => Array.from({ length: count }, (_, i) => String(i).padStart(length, 'j'));

  it('keeps every chunk within the limit, counting the header strings too, and loses nothing', async () => {
    const maxBytes = 4_096;
    for (const [epoch, versionId] of [['e', ''], ['e'.repeat(1_500), 'v'.repeat(1_000)]] as const) {
      const content: SyncContent = {
        keys: [],
        removedKeySerials: Array.from({ length: 300 }, (_, i) => 4_000_000_000 - i),
        addedRevocations: jtis(300, 128).map((jti) => ({ jti, expiresAt: 9_000_000_000_000 })),
        removedJtis: jtis(300, 128),
      };
      const sent = wire(encodeBatch(header(epoch, versionId), content, 'public', maxBytes));
      expect(sent.length).toBeGreaterThan(10);
      for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(maxBytes);
      expect(sent.map((s) => [s.batch.chunk, s.batch.last])).toEqual(sent.map((_, i) => [i, i === sent.length - 1]));
      expect(sent.flatMap((s) => s.batch.removedKeySerials)).toEqual(content.removedKeySerials);
      expect(sent.flatMap((s) => s.batch.addedRevocations.map((r) => r.jti))).toEqual(content.addedRevocations.map((r) => r.jti));
      expect(sent.flatMap((s) => s.batch.removedJtis)).toEqual(content.removedJtis);
    }
  });

  it('counts each key and each removed jti, however short, against the limit', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => ({ serial: i + 1, publicPem: spki, createdAt: 1 }));
    const removedJtis = Array.from({ length: 6_000 }, (_, i) => String(i % 10));
    for (const content of [
      { keys, removedKeySerials: [], addedRevocations: [], removedJtis: [] },
      { keys: [], removedKeySerials: [], addedRevocations: [], removedJtis },
    ]) {
      const sent = wire(encodeBatch(header('e', ''), content, 'public', 16_384));
      expect(sent.length).toBeGreaterThan(2);
      for (const s of sent) expect(s.bytes).toBeLessThanOrEqual(16_384);
      expect(sent.flatMap((s) => s.batch.keys.map((k) => k.serial))).toEqual(content.keys.map((k) => k.serial));
      expect(sent.flatMap((s) => s.batch.removedJtis)).toEqual(content.removedJtis);
    }
  });

  it('sends an item larger than a chunk alone, with no empty chunk before it', async () => {
    const privatePem = await generateRsaPrivateKeyPem();
    const key = { serial: 1, publicPem: parseKeyPem(privatePem).publicPem, privatePem, createdAt: 1 };
    const sent = wire(encodeBatch(header('e', ''), { keys: [key, { ...key, serial: 2 }], removedKeySerials: [], addedRevocations: [], removedJtis: ['x'] }, 'private', 2_048));
    expect(sent.map((s) => [s.batch.keys.map((k) => k.serial), s.batch.removedJtis])).toEqual([
      [[1], []],
      [[2], []],
      [[], ['x']],
    ]);
  });

  it('hands over the chunks sealed so far while the batch is still fed, none of them the last, and the same chunks in all', () => {
    const content: SyncContent = { keys: [], removedKeySerials: [], addedRevocations: jtis(400, 64).map((jti) => ({ jti, expiresAt: null })), removedJtis: [] };
    const encoder = new BatchEncoder(header('e', ''), 'public', 4_096);
    const drained: Batch[][] = [];
    for (const [i, r] of content.addedRevocations.entries()) {
      encoder.addRevocation(r);
      if (i % 50 === 49) drained.push(encoder.drain());
    }
    expect(drained.filter((chunks) => chunks.length > 0).length).toBeGreaterThan(3);
    expect(drained.flat().map((b) => b.last)).not.toContain(true);
    const all = [...drained.flat(), ...encoder.finish()];
    expect(all).toEqual(encodeBatch(header('e', ''), content, 'public', 4_096));
    expect(all.map((b) => [b.chunk, b.last])).toEqual(all.map((_, i) => [i, i === all.length - 1]));
  });

  it('sends an empty batch as one last chunk', async () => {
    const sent = encodeBatch(header('e', ''), { keys: [], removedKeySerials: [], addedRevocations: [], removedJtis: [] }, 'public');
    expect(sent).toEqual([expect.objectContaining({ chunk: 0, last: true, keys: [], removedKeySerials: [], addedRevocations: [], removedJtis: [] })]);
  });
});
