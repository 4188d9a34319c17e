import { EventEmitter } from 'node:events';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { EncodedGlobalMessage, type OutgoingGlobalMessage, type ZoneMessage__Output } from '@meshauth/core';
import { describe, expect, it } from 'vitest';
import { OutgoingBatch } from './outgoing-batch.js';
import { ZoneSession, type ZoneSessionOwner } from './zone-session.js';

/** A stand-in for grpc-js's server stream: records what is written, and can report a full buffer. */
class RecordingCall extends EventEmitter {
  readonly written: string[] = [];
  ended: { code: number; details: string } | undefined;
  full = false;

  write(message: OutgoingGlobalMessage): boolean {
    this.written.push(names.get(message as EncodedGlobalMessage) ?? 'a message of no chunk() here');
    return !this.full;
  }

  end(): void {}

  constructor() {
    super();
    this.on('error', (error: { code: number; details: string }) => {
      this.ended = error;
    });
  }
}

/** An encoded chunk, known by its name when written. */
const names = new WeakMap<EncodedGlobalMessage, string>();
const chunk = (name: string) => {
  const message = EncodedGlobalMessage.of({ heartbeat: {} });
  names.set(message, name);
  return message;
};

function session(): { call: RecordingCall; session: ZoneSession } {
  const call = new RecordingCall();
  const credential = { zone: 'zone-1', expiresAtMs: Date.now() + 3_600_000, check: () => ({ ok: true }) as const };
  const owner = { now: () => Date.now() } as unknown as ZoneSessionOwner;
  return { call, session: new ZoneSession(call as unknown as ServerDuplexStream<ZoneMessage__Output, OutgoingGlobalMessage>, credential, owner) };
}

describe('a zone session writing batches', () => {
  it('writes a snapshot’s chunks as they are encoded, and what was queued after it only once it is complete', () => {
    const { call, session: s } = session();
    const snapshot = new OutgoingBatch();
    s.send(snapshot, 5);
    s.send(OutgoingBatch.of([chunk('delta 6')]), 6);
    expect(call.written).toEqual([]);
    snapshot.push([chunk('snapshot 0'), chunk('snapshot 1')]);
    expect(call.written).toEqual(['snapshot 0', 'snapshot 1']);
    snapshot.push([chunk('snapshot 2')]);
    expect(call.written).toEqual(['snapshot 0', 'snapshot 1', 'snapshot 2']);
    snapshot.finish([chunk('snapshot 3 (last)')]);
    expect(call.written).toEqual(['snapshot 0', 'snapshot 1', 'snapshot 2', 'snapshot 3 (last)', 'delta 6']);
    expect(s.sentVersion).toBe(6);
  });

  it('shares one growing snapshot between streams, each from its first chunk', () => {
    const snapshot = new OutgoingBatch();
    const first = session();
    first.session.send(snapshot, 5);
    snapshot.push([chunk('0'), chunk('1')]);
    const second = session();
    second.session.send(snapshot, 5);
    expect(second.call.written).toEqual(['0', '1']);
    snapshot.finish([chunk('2')]);
    expect(first.call.written).toEqual(['0', '1', '2']);
    expect(second.call.written).toEqual(['0', '1', '2']);
  });

  it('waits for the stream to drain before the next chunk, however the chunks came', () => {
    const { call, session: s } = session();
    const snapshot = new OutgoingBatch();
    s.send(snapshot, 5);
    call.full = true;
    snapshot.push([chunk('0'), chunk('1')]);
    expect(call.written).toEqual(['0']);
    snapshot.finish([chunk('2')]);
    expect(call.written).toEqual(['0']);
    call.full = false;
    call.emit('drain');
    expect(call.written).toEqual(['0', '1', '2']);
  });

  it('ends the stream UNAVAILABLE naming the store error when the snapshot cannot be read, and writes nothing after it', () => {
    const { call, session: s } = session();
    const snapshot = new OutgoingBatch();
    s.send(snapshot, 5);
    s.send(OutgoingBatch.of([chunk('delta 6')]), 6);
    snapshot.push([chunk('0')]);
    snapshot.fail(new Error('SQLITE_IOERR: disk I/O error'));
    expect(call.written).toEqual(['0']);
    expect(call.ended).toEqual({ code: status.UNAVAILABLE, details: 'global could not read its store: SQLITE_IOERR: disk I/O error' });
  });
});
