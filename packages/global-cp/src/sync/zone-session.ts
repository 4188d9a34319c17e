import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  effectiveSyncMode,
  fromProtoMode,
  toProtoMode,
  type OutgoingGlobalMessage,
  type Hello__Output,
  type Logger,
  type SyncMode,
  type ZoneMessage__Output,
} from '@meshauth/core';
import type { OutgoingBatch } from './outgoing-batch.js';
import type { ZoneCredential } from './zone-authentication.js';

/** A zone that says nothing within this long after opening the stream is dropped. */
const HELLO_TIMEOUT_MS = 10_000;
/** Floor for the zone-announced heartbeat interval, so a zone cannot make global spin. */
const MIN_HEARTBEAT_MS = 100;
/** Ceiling too: beyond 2^31 - 1 ms Node fires a timer after 1 ms, and a silent stream must still be noticed. */
const MAX_HEARTBEAT_MS = 300_000;
/** Node fires a longer timer after 1 ms: an expiry further away is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * What a session asks of the replica's sessions that hold it. Narrow on purpose: a session
 * never sees the store, the registry or the verifier, only these.
 */
export interface ZoneSessionOwner {
  /** The most global allows (multizone.global.syncUserTokenKeys). */
  readonly allowed: SyncMode;
  readonly logger: Logger;
  now(): number;
  /** Appends an audit entry of the stream's acceptance or refusal (rejects when it cannot be written). */
  audit(zone: string, action: 'sync.accept' | 'sync.refuse', result: string): Promise<void>;
  /** What Welcome carries: the store's epoch and the version this replica has applied. */
  welcome(): { epoch: string; version: number };
  /** Hello accepted: the owner records it (and drops an older stream of the same zone). */
  register(session: ZoneSession, hello: Hello__Output): void;
  unregister(session: ZoneSession): void;
  /** From the stream's first moment to its end: the session's zone token is re-checked on the owner's sweep. */
  watchCredential(session: ZoneSession): () => void;
  /** Sends the snapshot or delta that brings the zone from what it applied to now, then makes it live. */
  initialSync(session: ZoneSession, hello: Hello__Output): void;
  /** The zone nacked a batch: send it a snapshot of now (`sendRecoverySnapshot`), then what follows. */
  resync(session: ZoneSession): void;
  acked(zone: string, version: number): void;
  failed(zone: string, reason: string): void;
}

/**
 * One zone's open Sync stream on global: waits for Hello, checks the zone name against the
 * token, sends Welcome and the initial snapshot or delta, then whatever the server fans out.
 * Answers heartbeats and records acks and nacks.
 *
 * The zone token is checked for the whole life of the stream, never only when the zone chooses
 * to send something: by the owner's sweep, at the token's exp, on every message received and
 * before every message written (batches already queued included). Once it fails, the stream ends
 * UNAUTHENTICATED with the verifier's reason and nothing more is written to it.
 */
export class ZoneSession {
  zone = '';
  mode: SyncMode = 'off';
  /** The last version written to this stream; the next delta must start here. */
  sentVersion = 0;
  /** True once the initial sync is written (set by the owner): from then on changes are fanned out to it. */
  live = false;
  private closed = false;
  /**
   * Batches waiting to be written, each with the index of its next chunk: written as the stream
   * drains (a slow zone never makes global buffer without bound in gRPC) and as a growing batch
   * gets its chunks.
   */
  private readonly outbox: { batch: OutgoingBatch; next: number }[] = [];
  private waitingForDrain = false;
  private waitingForChunks = false;
  private lastHeardAt: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private expiryTimer: NodeJS.Timeout | undefined;
  private unwatchCredential: (() => void) | undefined;
  /** Batches written (each counted once, whatever its chunks) and Acks or Nacks received: the zone answers every batch once, in order. */
  private batchesSent = 0;
  private answers = 0;
  /**
   * After a Nack: `building` while the snapshot is read (other batches are held back), then `sent`
   * with the snapshot's place in the batch order, until the zone answers it. An Ack ends it; a Nack
   * of that snapshot ends the stream.
   */
  private recovery: { phase: 'building' } | { phase: 'sent'; answerIndex: number; version: number } | undefined;

  constructor(
    private readonly call: ServerDuplexStream<ZoneMessage__Output, OutgoingGlobalMessage>,
    private readonly credential: ZoneCredential,
    private readonly deps: ZoneSessionOwner,
  ) {
    this.lastHeardAt = deps.now();
  }

  start(): void {
    this.unwatchCredential = this.deps.watchCredential(this);
    this.armExpiryTimer();
    this.timers.push(setTimeout(() => this.end(status.DEADLINE_EXCEEDED, `no Hello within ${HELLO_TIMEOUT_MS} ms`), HELLO_TIMEOUT_MS));
    this.call.on('data', (message: ZoneMessage__Output) => {
      try {
        this.receive(message);
      } catch (error) {
        this.deps.logger.error({ err: error, zone: this.credential.zone }, 'sync: failed to handle a zone message');
        this.end(status.INTERNAL, 'global failed to handle the message');
      }
    });
    this.call.on('end', () => this.end(status.OK, 'zone closed the stream'));
    this.call.on('cancelled', () => this.cleanUp('zone cancelled the stream'));
    this.call.on('error', () => this.cleanUp('stream error'));
    this.call.on('close', () => this.cleanUp('stream closed'));
  }

  /** True while the snapshot answering a Nack is being read: batches are held back, not sent. */
  get resyncing(): boolean {
    return this.recovery?.phase === 'building';
  }

  /** Sends one batch (its chunks encoded already or still being encoded, maybe shared with other streams), in order, as fast as the zone takes them. Held back while a snapshot after a Nack is built. */
  send(batch: OutgoingBatch, toVersion: number): void {
    if (this.closed || this.recovery?.phase === 'building') return;
    this.enqueue(batch, toVersion);
  }

  /** The snapshot answering a Nack: the zone's answer to it decides whether the stream goes on. */
  sendRecoverySnapshot(batch: OutgoingBatch, toVersion: number): void {
    if (this.closed) return;
    this.recovery = { phase: 'sent', answerIndex: this.batchesSent + 1, version: toVersion };
    this.enqueue(batch, toVersion);
  }

  private enqueue(batch: OutgoingBatch, toVersion: number): void {
    this.batchesSent++;
    this.outbox.push({ batch, next: 0 });
    this.sentVersion = toVersion;
    this.flush();
  }

  private flush(): void {
    while (!this.waitingForDrain && !this.waitingForChunks && this.outbox.length > 0) {
      const head = this.outbox[0]!;
      if (head.next === head.batch.chunks.length) {
        if (head.batch.error) return this.end(status.UNAVAILABLE, `global could not read its store: ${head.batch.error.message}`);
        if (head.batch.complete) {
          this.outbox.shift();
          continue;
        }
        this.waitingForChunks = true;
        head.batch.whenChanged(() => {
          this.waitingForChunks = false;
          this.flush();
        });
        return;
      }
      if (!this.recheckCredential()) return;
      if (!this.call.write(head.batch.chunks[head.next++]!)) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          this.flush();
        });
      }
    }
  }

  /**
   * Ends the stream if the zone token is no longer valid; true while it still is. Called by the
   * sweep, at exp, and before anything is read from or written to the stream.
   */
  recheckCredential(): boolean {
    if (this.closed) return false;
    let check;
    try {
      check = this.credential.check();
    } catch (error) {
      this.deps.logger.error({ err: error, zone: this.credential.zone }, 'sync: failed to check a zone token');
      this.end(status.INTERNAL, 'global failed to check the zone token');
      return false;
    }
    if (check.ok) return true;
    this.deps.logger.warn({ zone: this.credential.zone, reason: check.reason }, 'sync: zone token no longer valid; stream ended');
    if (this.zone) this.deps.failed(this.zone, check.reason);
    this.end(check.code, check.reason);
    return false;
  }

  /** Exactly at exp rather than at the next sweep. */
  private armExpiryTimer(): void {
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, this.credential.expiresAtMs - this.deps.now()));
    this.expiryTimer = setTimeout(() => {
      if (this.recheckCredential()) this.armExpiryTimer();
    }, wait);
  }

  end(code: status, reason: string): void {
    if (this.closed) return;
    if (code === status.OK) this.call.end();
    else this.call.emit('error', { code, details: reason });
    this.cleanUp(reason);
  }

  private cleanUp(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox.length = 0;
    for (const timer of this.timers) clearTimeout(timer);
    clearTimeout(this.expiryTimer);
    this.unwatchCredential?.();
    if (this.zone) {
      this.deps.unregister(this);
      this.deps.logger.info({ zone: this.zone, reason }, 'sync: zone disconnected');
    }
  }

  private receive(message: ZoneMessage__Output): void {
    // Whatever the message: a zone whose token stopped being valid has its stream ended, not its ack recorded.
    if (!this.recheckCredential()) return;
    this.lastHeardAt = this.deps.now();
    if (!this.zone && message.message !== 'hello') return this.end(status.FAILED_PRECONDITION, 'the first message must be Hello');
    switch (message.message) {
      case 'hello':
        return this.hello(message.hello!);
      case 'ack':
        this.answers++;
        if (this.recovery?.phase === 'sent' && this.answers >= this.recovery.answerIndex) this.recovery = undefined;
        return this.deps.acked(this.zone, message.ack!.version);
      case 'nack':
        return this.nacked(message.nack!.version, message.nack!.reason);
      case 'heartbeat':
        if (this.recheckCredential()) this.call.write({ heartbeat: { sentAtMs: this.deps.now() } });
        return;
      default:
        return;
    }
  }

  /**
   * A Nack: the zone kept its state and global sends a snapshot of now, once. A Nack of that
   * snapshot ends the stream FAILED_PRECONDITION with the zone's reason (the zone cannot take what
   * global holds; reconnecting will not change that). Nacks of batches written before the
   * snapshot are answers to batches it replaces, and change nothing.
   */
  private nacked(version: number, reason: string): void {
    this.answers++;
    this.deps.failed(this.zone, `version ${version}: ${reason}`);
    this.deps.logger.warn({ zone: this.zone, version, reason }, 'sync: zone could not apply a batch');
    const recovery = this.recovery;
    if (recovery?.phase === 'sent' && this.answers === recovery.answerIndex) {
      const why = `zone refused the snapshot global sent after its Nack (version ${version}: ${reason}); stream ended`;
      this.deps.logger.warn({ zone: this.zone, version, reason }, 'sync: zone refused the snapshot sent after its Nack; stream ended');
      this.deps.failed(this.zone, why);
      return this.end(status.FAILED_PRECONDITION, why);
    }
    // A zone in mode off is sent no batch, so it has none to refuse.
    if (recovery || this.mode === 'off') return;
    this.recovery = { phase: 'building' };
    this.deps.resync(this);
  }

  private hello(hello: Hello__Output): void {
    if (this.zone) return this.end(status.FAILED_PRECONDITION, 'Hello sent twice');
    if (hello.zone !== this.credential.zone) {
      return this.refuse(status.PERMISSION_DENIED, `zone token is for zone ${this.credential.zone}, but the zone says it is ${JSON.stringify(hello.zone)}`);
    }
    clearTimeout(this.timers.shift());
    this.zone = hello.zone;
    this.mode = effectiveSyncMode(fromProtoMode(hello.mode), this.deps.allowed);
    const interval = Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, hello.heartbeatIntervalMs || 5_000));
    this.timers.push(
      setInterval(() => {
        const silentFor = this.deps.now() - this.lastHeardAt;
        if (silentFor > 3 * interval) this.end(status.UNAVAILABLE, `no message from zone for ${silentFor} ms`);
      }, interval),
    );
    this.deps.register(this, hello);
    this.deps.logger.info({ zone: this.zone, asked: fromProtoMode(hello.mode), effective: this.mode, appliedVersion: hello.appliedVersion }, 'sync: zone connected');
    // Nothing is sent before the acceptance is in the audit log; a log that cannot be written ends the stream.
    this.deps.audit(this.zone, 'sync.accept', `accepted (mode ${this.mode})`).then(
      () => {
        if (!this.recheckCredential()) return;
        this.call.write({ welcome: { effectiveMode: toProtoMode(this.mode), ...this.deps.welcome() } });
        if (this.mode !== 'off') this.deps.initialSync(this, hello);
      },
      (error: unknown) => {
        this.deps.logger.error({ err: error, zone: this.zone }, 'sync: cannot write the audit entry of an accepted zone; stream ended');
        this.end(status.UNAVAILABLE, 'global cannot write its audit log; try again later');
      },
    );
  }

  private refuse(code: status, reason: string): void {
    this.deps.logger.warn({ zone: this.credential.zone, reason }, 'sync: zone refused');
    auditRefusal(this.deps, this.credential.zone, reason);
    if (this.zone) this.deps.failed(this.zone, reason);
    this.end(code, reason);
  }
}

/** A refusal stands whether or not its entry is written: a failure to write is logged. */
export function auditRefusal(owner: Pick<ZoneSessionOwner, 'audit' | 'logger'>, zone: string, reason: string): void {
  owner.audit(zone, 'sync.refuse', `refused: ${reason}`).catch((error: unknown) => owner.logger.error({ err: error, zone }, 'sync: cannot write the audit entry of a refused zone'));
}
