import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';

/**
 * A zone written from proto/meshauth/v1/sync.proto alone, against a real global-cp: the .proto
 * loaded with @grpc/proto-loader (field names as the proto spells them), no meshauth client code.
 * Everything this client relies on is what the proto's comments say.
 */
const definition = loadSync(join(repoRoot, 'proto/meshauth/v1/sync.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
const GlobalSync = (loadPackageDefinition(definition) as any).meshauth.v1.GlobalSync;

/** A GlobalMessage as proto-loader decodes it with the options above. */
type Message = { message: 'welcome' | 'batch' | 'heartbeat'; welcome?: any; batch?: any; heartbeat?: any };

/** One Sync stream: write ZoneMessages, take GlobalMessages in order, see how it ended. */
function openStream(address: string, zoneToken: string) {
  const client = new GlobalSync(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${zoneToken}`);
  const call: ClientDuplexStream<object, Message> = client.Sync(metadata);
  const inbox: Message[] = [];
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  call.on('data', (m: Message) => {
    inbox.push(m);
    wake();
  });
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details }));
    call.on('end', () => resolve({ code: 0, details: 'end' }));
  });
  void ended.then(wake);
  let over = false;
  void ended.then(() => (over = true));
  return {
    send: (message: object) => call.write(message),
    /** The next GlobalMessage; fails if the stream ends first or nothing comes within 20 s. */
    async next(): Promise<Message> {
      const deadline = Date.now() + 20_000;
      while (inbox.length === 0) {
        if (over) throw new Error(`stream ended: ${JSON.stringify(await ended)}`);
        if (Date.now() > deadline) throw new Error('no message from global within 20 s');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 250);
        });
      }
      return inbox.shift()!;
    },
    /** Chunks until `last`: one whole batch. */
    async batch(): Promise<any[]> {
      const chunks: any[] = [];
      for (;;) {
        const m = await this.next();
        expect(m.message, `expected a batch chunk, got ${JSON.stringify(m)}`).toBe('batch');
        chunks.push(m.batch);
        if (m.batch.last) return chunks;
      }
    },
    ended,
    close() {
      call.cancel();
      client.close();
    },
  };
}

/**
 * The revocations a batch adds, as the proto says to read them: `added_revocations`, then
 * `added_uuid_jtis` (16 bytes a UUID, back to back) with `added_uuid_expires_at_ms` (empty: all 0).
 */
function addedRevocations(batch: any): { jti: string; expires_at_ms: number }[] {
  const packed: Buffer = batch.added_uuid_jtis;
  expect(packed.length % 16).toBe(0);
  const uuids = [];
  for (let i = 0; i < packed.length / 16; i++) {
    const h = packed.subarray(i * 16, i * 16 + 16).toString('hex');
    uuids.push({ jti: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, expires_at_ms: batch.added_uuid_expires_at_ms[i] ?? 0 });
  }
  return [...batch.added_revocations, ...uuids];
}

describe('the sync protocol, followed from the .proto alone', () => {
  const dir = tempDir();
  let global: Daemon;
  let address: string;
  let zoneToken: string;
  // UUID jtis travel packed, any other jti as a string: both kinds, enough for several chunks.
  const jtis = [...Array.from({ length: 100_000 }, () => randomUUID()), ...Array.from({ length: 5_000 }, (_, i) => `legacy-token-${i}`)];
  const streams: ReturnType<typeof openStream>[] = [];
  const open = () => {
    const stream = openStream(address, zoneToken);
    streams.push(stream);
    return stream;
  };
  const revoke = async (jti: string) => expect((await http('POST', `${global.url}/tokens/user/revocations`, { body: { jti } })).status).toBe(201);
  const hello = (position: { epoch: string; applied_version: number; applied_version_id: string }) => ({
    hello: { zone: 'zone-1', mode: 'SYNC_MODE_PUBLIC', applied_mode: 'SYNC_MODE_PUBLIC', heartbeat_interval_ms: 0, software_version: 'proto-only-zone', ...position },
  });
  /** What the zone holds after a batch: where its next Hello starts. */
  let position = { epoch: '', applied_version: 0, applied_version_id: '' };

  beforeAll(async () => {
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_BODY_LIMIT: String(8 * 1024 * 1024) });
    address = `127.0.0.1:${global.ready.syncPort as number}`;
    // From localhost, as the docs read the admin token: no credentials needed.
    const zone = await http('POST', `${global.url}/tokens/zone`, { body: { zone: 'zone-1', scope: ['cp'], validFor: '1h' } });
    expect(zone.status).toBe(200);
    zoneToken = zone.text;
    // Enough revocations that a snapshot spans several chunks of at most 1 MiB.
    const data = Buffer.from(jtis.join(',')).toString('base64');
    expect((await http('PUT', `${global.url}/global-secrets/user-token-revocations`, { body: { type: 'GlobalSecret', name: 'user-token-revocations', data } })).status).toBeLessThan(300);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await stopAll();
    dir.remove();
  });

  it('a new zone: Welcome, then a snapshot in chunks numbered from 0, last on the final one; an Ack; heartbeats answered', async () => {
    const stream = open();
    stream.send(hello(position));
    const welcome = await stream.next();
    expect(welcome).toMatchObject({ message: 'welcome', welcome: { effective_mode: 'SYNC_MODE_PUBLIC', epoch: expect.any(String) } });
    const chunks = await stream.batch();
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.chunk)).toEqual(chunks.map((_, i) => i));
    expect(chunks.map((c) => c.last)).toEqual(chunks.map((_, i) => i === chunks.length - 1));
    for (const c of chunks) {
      expect(c).toMatchObject({ kind: 'KIND_SNAPSHOT', epoch: welcome.welcome.epoch, to_version: welcome.welcome.version, to_version_id: chunks[0].to_version_id });
    }
    const revoked = new Set(chunks.flatMap((c) => addedRevocations(c).map((r) => r.jti)));
    expect(revoked.size).toBe(jtis.length);
    expect(jtis.every((jti) => revoked.has(jti))).toBe(true);
    expect(chunks.some((c) => c.added_revocations.length > 0) && chunks.some((c) => c.added_uuid_jtis.length > 0)).toBe(true);
    const keys = chunks.flatMap((c) => c.keys);
    expect(keys.map((k: { serial: number }) => k.serial)).toEqual([1]);
    expect(keys[0].private_pem).toBe('');
    stream.send({ ack: { version: chunks[0].to_version } });
    position = { epoch: chunks[0].epoch, applied_version: chunks[0].to_version, applied_version_id: chunks[0].to_version_id };
    // heartbeat_interval_ms = 0: global assumes the default; every zone Heartbeat is answered with one.
    stream.send({ heartbeat: { sent_at_ms: Date.now() } });
    expect(await stream.next()).toMatchObject({ message: 'heartbeat', heartbeat: { sent_at_ms: expect.any(Number) } });
    stream.close();
  });

  it('a current zone gets Welcome and no batch: the first batch after it is the delta of the next change, from its version, keys and revocations upserted', async () => {
    const stream = open();
    stream.send(hello(position));
    expect((await stream.next()).message).toBe('welcome');
    const jti = randomUUID();
    await revoke(jti);
    const [delta] = await stream.batch();
    expect(delta).toMatchObject({ kind: 'KIND_DELTA', chunk: 0, last: true, from_version: position.applied_version, to_version: position.applied_version + 1 });
    expect(addedRevocations(delta)).toEqual([{ jti, expires_at_ms: 0 }]);
    stream.send({ ack: { version: delta.to_version } });
    position = { epoch: delta.epoch, applied_version: delta.to_version, applied_version_id: delta.to_version_id };
    stream.close();
  });

  it('a Nack of a delta gets a snapshot of now; an Ack of it, and deltas go on from the snapshot', async () => {
    const stream = open();
    stream.send(hello(position));
    expect((await stream.next()).message).toBe('welcome');
    await revoke(randomUUID());
    const [delta] = await stream.batch();
    expect(delta.kind).toBe('KIND_DELTA');
    stream.send({ nack: { version: delta.to_version, reason: 'this zone could not store it' } });
    const snapshot = await stream.batch();
    expect(snapshot[0]).toMatchObject({ kind: 'KIND_SNAPSHOT', chunk: 0 });
    expect(snapshot[0].to_version).toBeGreaterThanOrEqual(delta.to_version);
    stream.send({ ack: { version: snapshot[0].to_version } });
    const jti = randomUUID();
    await revoke(jti);
    const [next] = await stream.batch();
    expect(next).toMatchObject({ kind: 'KIND_DELTA', from_version: snapshot[0].to_version });
    expect(addedRevocations(next)).toEqual([{ jti, expires_at_ms: 0 }]);
    stream.send({ ack: { version: next.to_version } });
    position = { epoch: next.epoch, applied_version: next.to_version, applied_version_id: next.to_version_id };
    stream.close();
  });

  it('a Nack of that snapshot ends the stream FAILED_PRECONDITION with the reason, as the proto says', async () => {
    const stream = open();
    stream.send(hello(position));
    expect((await stream.next()).message).toBe('welcome');
    await revoke(randomUUID());
    const [delta] = await stream.batch();
    stream.send({ nack: { version: delta.to_version, reason: 'first refusal' } });
    const snapshot = await stream.batch();
    expect(snapshot[0].kind).toBe('KIND_SNAPSHOT');
    stream.send({ nack: { version: snapshot[0].to_version, reason: 'disk full' } });
    const ended = await stream.ended;
    expect(ended.code).toBe(status.FAILED_PRECONDITION);
    expect(ended.details).toMatch(/zone refused the snapshot global sent after its Nack \(version \d+: disk full\)/);
    const zones = await http('GET', `${global.url}/zones`);
    expect(zones.json.items).toEqual([expect.objectContaining({ zone: 'zone-1', lastError: expect.stringMatching(/zone refused the snapshot/) })]);
  });
});
