import { describe, expect, it } from 'vitest';
import { syncProto } from './sync-proto.js';

/** The decoded shape the sync streams rely on (sync-stream.ts, zone-session.ts) and the generated types promise. */
describe('syncProto', () => {
  const sync = syncProto().GlobalSync.service.Sync;
  const roundTrip = (message: object) => sync.responseDeserialize(sync.responseSerialize(message));

  it('is loaded once', () => {
    expect(syncProto()).toBe(syncProto());
  });

  it('decodes camelCase fields, 64-bit versions as numbers, enums by name, and names the oneof member sent', () => {
    expect(roundTrip({ welcome: { effectiveMode: 'SYNC_MODE_PUBLIC', epoch: 'e-1', version: 2 ** 40 } })).toEqual({
      welcome: { effectiveMode: 'SYNC_MODE_PUBLIC', epoch: 'e-1', version: 2 ** 40 },
      message: 'welcome',
    });
  });

  it('fills in defaults for fields not sent', () => {
    expect(roundTrip({ batch: { toVersion: 3 } })).toEqual({
      batch: {
        kind: 'KIND_UNSPECIFIED',
        epoch: '',
        fromVersion: 0,
        toVersion: 3,
        chunk: 0,
        last: false,
        keys: [],
        removedKeySerials: [],
        addedRevocations: [],
        removedJtis: [],
        committedAtMs: 0,
        toVersionId: '',
        addedUuidJtis: Buffer.alloc(0),
        addedUuidExpiresAtMs: [],
        removedUuidJtis: Buffer.alloc(0),
        revocationsTotal: 0,
      },
      message: 'batch',
    });
  });
});
