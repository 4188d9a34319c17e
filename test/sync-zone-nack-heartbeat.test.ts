import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateRsaPrivateKeyPem,
  importSigningKey,
  KeyRing,
  parseKeyPem,
  syncProto,
  systemClock,
  TokenIssuer,
  type Batch,
  type GlobalMessage,
  type ZoneMessage__Output,
} from '@meshauth/core';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';
import { startZone, syncStatus } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

type Behaviour = (call: ServerDuplexStream<ZoneMessage__Output, GlobalMessage>, hello: ZoneMessage__Output) => void;

/**
 * A stand-in for global that a test scripts message by message, to make a real zone-cp face what
 * a healthy global never sends: a batch it cannot apply, or a stream that goes silent.
 */
async function startFakeGlobal(behaviour: { current: Behaviour }) {
  const received: ZoneMessage__Output[] = [];
  let streams = 0;
  const server = new Server();
  server.addService(syncProto().GlobalSync.service, {
    Sync(call: ServerDuplexStream<ZoneMessage__Output, GlobalMessage>) {
      streams++;
      call.on('data', (m: ZoneMessage__Output) => {
        received.push(m);
        if (m.message === 'hello') behaviour.current(call, m);
      });
      call.on('error', () => {});
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, received, streams: () => streams, close: () => server.forceShutdown() };
}

const batch = (kind: 'KIND_SNAPSHOT' | 'KIND_DELTA', from: number, to: number, content: Partial<Batch>): Batch => ({
  kind,
  epoch: 'fake-epoch',
  fromVersion: from,
  toVersion: to,
  chunk: 0,
  last: true,
  committedAtMs: Date.now(),
  ...content,
});

describe('a zone facing a batch it cannot apply, and a silent stream', () => {
  const dir = tempDir();
  const behaviour: { current: Behaviour } = { current: () => {} };
  let fake: Awaited<ReturnType<typeof startFakeGlobal>>;
  let zone: Daemon;
  let token: string;
  let echoHeartbeats = true;
  /** The public key of alice's token, as the fake global's snapshots carry it. */
  let key: { serial: number; publicPem: string; privatePem: string; createdAtMs: number };

  beforeAll(async () => {
    const privatePem = await generateRsaPrivateKeyPem();
    const { publicPem } = parseKeyPem(privatePem);
    key = { serial: 1, publicPem, privatePem: '', createdAtMs: Date.now() };
    const ring = new KeyRing();
    ring.set(importSigningKey({ serial: 1, publicPem, privatePem, createdAt: Date.now(), origin: 'local' }));
    token = await new TokenIssuer(ring, systemClock, 'user token').issue({ Name: 'alice', Groups: [] }, 3_600_000);

    behaviour.current = (call) => {
      call.write({ welcome: { effectiveMode: 'SYNC_MODE_PUBLIC', epoch: 'fake-epoch', version: 2 } });
      call.write({ batch: batch('KIND_SNAPSHOT', 0, 1, { keys: [{ serial: 1, publicPem, privatePem: '', createdAtMs: Date.now() }] }) });
      // Version 2 carries a key that is not a key: the zone must refuse all of it.
      call.write({
        batch: batch('KIND_DELTA', 1, 2, {
          keys: [{ serial: 2, publicPem: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n', privatePem: '', createdAtMs: Date.now() }],
          removedKeySerials: [1],
        }),
      });
      call.on('data', (m: ZoneMessage__Output) => {
        if (m.message === 'heartbeat' && echoHeartbeats) call.write({ heartbeat: { sentAtMs: Date.now() } });
      });
    };
    fake = await startFakeGlobal(behaviour);
    const tokenFile = join(dir.path, 'zone.token');
    writeFileSync(tokenFile, 'not checked by the fake global');
    zone = await startZone('zone-1', join(dir.path, 'zone.db'), { globalAddress: `grpc://127.0.0.1:${fake.port}`, tokenFile, env: { MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '300ms' } });
  });

  afterAll(async () => {
    await stopAll();
    fake.close();
    dir.remove();
  });

  it('applies the snapshot, acks it, nacks the bad delta with the reason and keeps its previous state', async () => {
    const nack = await waitFor('nack', () => fake.received.find((m) => m.message === 'nack')?.nack);
    expect(nack).toEqual({ version: 2, reason: expect.stringMatching(/signing key 2 is not a usable RSA key/) });
    expect(fake.received.filter((m) => m.message === 'ack').map((m) => m.ack!.version)).toEqual([1]);
    const status = await syncStatus(zone);
    expect(status).toMatchObject({ appliedVersion: 1, globalEpoch: 'fake-epoch', lastError: expect.stringMatching(/could not apply version 2/) });
    // Key 1 was to be removed by the same batch: it is still there, and its tokens still work.
    expect((await http('GET', `${zone.url}/who-am-i`, { token })).json.name).toBe('alice');
    expect((await http('GET', `${zone.url}/tokens/user/signing-keys`)).json.items.map((k: { serial: number }) => k.serial)).toEqual([1]);
  });

  it('re-establishes a stream that stays open but delivers nothing', async () => {
    const before = fake.streams();
    // From now on the fake global welcomes each stream and then says nothing at all: the zone
    // must notice the silence (3 × 300 ms) and redial, again and again.
    echoHeartbeats = false;
    behaviour.current = (call) => call.write({ welcome: { effectiveMode: 'SYNC_MODE_PUBLIC', epoch: 'fake-epoch', version: 1 } });
    await waitFor('the zone to redial', () => fake.streams() >= before + 2, 20_000);
    const status = await syncStatus(zone);
    expect(status.lastError).toMatch(/no message from global/);
    // Nothing was deleted because streams dropped.
    expect((await http('GET', `${zone.url}/who-am-i`, { token })).json.name).toBe('alice');
  });

  it('sends a heartbeat only in an interval in which it sent nothing else: its acks say it is there', async () => {
    // Each stream from now on: a snapshot, then 60 empty deltas 50 ms apart (3 s, ten of the
    // zone's 300 ms intervals), then only answers to heartbeats. What the zone sends meanwhile is
    // recorded per phase.
    const sent = { busy: [] as string[], idle: [] as string[] };
    let phase: keyof typeof sent | undefined;
    let stream: ServerDuplexStream<ZoneMessage__Output, GlobalMessage> | undefined;
    behaviour.current = (call) => {
      stream = call;
      call.write({ welcome: { effectiveMode: 'SYNC_MODE_PUBLIC', epoch: 'fake-epoch', version: 10 } });
      call.write({ batch: batch('KIND_SNAPSHOT', 0, 10, { keys: [key] }) });
      let version = 10;
      const deltas = setInterval(() => {
        if (version === 70) {
          clearInterval(deltas);
          phase = 'idle';
          return;
        }
        phase = 'busy';
        call.write({ batch: batch('KIND_DELTA', version, ++version, {}) });
      }, 50);
      call.on('data', (m: ZoneMessage__Output) => {
        if (phase) sent[phase].push(m.message!);
        if (m.message === 'heartbeat') call.write({ heartbeat: { sentAtMs: Date.now() } });
      });
      call.on('close', () => clearInterval(deltas));
    };
    await waitFor('the busy phase to end and three idle intervals to pass', () => sent.idle.filter((m) => m === 'heartbeat').length >= 3, 30_000);
    // Ten intervals acking: at most a heartbeat or two where the machine stalled an ack past one.
    expect(sent.busy.filter((m) => m === 'ack').length).toBeGreaterThan(50);
    expect(sent.busy.filter((m) => m === 'heartbeat').length).toBeLessThanOrEqual(2);
    expect((await syncStatus(zone)).appliedVersion).toBe(70);
    // The next test starts from a redial.
    stream!.end();
  });

  it('waits longer for the answer to its hello (12 heartbeat intervals) than for the next message of a stream under way, then redials', async () => {
    const before = fake.streams();
    // A global that never answers the hello (busy welcoming thousands of zones, or stuck).
    behaviour.current = () => {};
    await waitFor('the zone to redial', () => fake.streams() >= before + 2, 30_000);
    const status = await syncStatus(zone);
    const waited = Number(/global has not answered this zone's hello for (\d+) ms/.exec(status.lastError)?.[1]);
    expect(waited).toBeGreaterThan(12 * 300);
    expect((await http('GET', `${zone.url}/who-am-i`, { token })).json.name).toBe('alice');
  });
});
