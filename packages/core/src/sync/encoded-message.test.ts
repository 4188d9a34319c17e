import { describe, expect, it, vi } from 'vitest';
import { EncodedGlobalMessage, syncServiceForServer } from './encoded-message.js';
import { syncProto } from './sync-proto.js';

describe('EncodedGlobalMessage', () => {
  const client = syncProto().GlobalSync.service.Sync;
  const server = syncServiceForServer().Sync!;
  const batch = { batch: { kind: 'KIND_DELTA' as const, epoch: 'e', fromVersion: 4, toVersion: 5, last: true, addedRevocations: [{ jti: 'j-1', expiresAtMs: 9 }] } };

  it('builds the server\'s service definition once and hands out that one', () => {
    expect(syncServiceForServer()).toBe(syncServiceForServer());
    expect(syncServiceForServer().Sync).toBe(server);
  });

  it('builds it on the first call in a process, before any other has', async () => {
    // A fresh copy of the module: the one imported above has built its definition already.
    vi.resetModules();
    const { syncServiceForServer: fresh, EncodedGlobalMessage: FreshEncoded } = await import('./encoded-message.js');
    const first = fresh();
    expect(fresh()).toBe(first);
    const encoded = FreshEncoded.of(batch);
    expect(first.Sync!.responseSerialize(encoded)).toBe(encoded.bytes);
    expect(first.Sync!.responseSerialize({ heartbeat: { sentAtMs: 7 } })).toEqual(client.responseSerialize({ heartbeat: { sentAtMs: 7 } }));
  });

  it('is written byte for byte, and the zone decodes what the message itself would have been', () => {
    const encoded = EncodedGlobalMessage.of(batch);
    const written = server.responseSerialize(encoded);
    expect(written).toBe(encoded.bytes);
    expect(client.responseDeserialize(written)).toEqual(client.responseDeserialize(client.responseSerialize(batch)));
    expect(client.responseDeserialize(written).batch!.addedRevocations).toEqual([{ jti: 'j-1', expiresAtMs: 9 }]);
  });

  it('leaves every other message to the usual serializer, Buffers included', () => {
    const heartbeat = { heartbeat: { sentAtMs: 7 } };
    expect(server.responseSerialize(heartbeat)).toEqual(client.responseSerialize(heartbeat));
    // A plain Buffer is no encoded message: it goes through the serializer, not onto the wire as is.
    const bytes = Buffer.from([1, 2, 3]);
    expect(server.responseSerialize(bytes)).not.toBe(bytes);
  });
});
