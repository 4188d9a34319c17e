import { Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  fromProtoMode,
  toProtoMode,
  meshauthVersion,
  type BatchReceiver,
  type Clock,
  type GlobalMessage__Output,
  type GlobalSyncClient,
  type Logger,
  type SyncMode,
  type ZoneMessage,
} from '@meshauth/core';
import type { BatchApplier } from './batch-applier.js';
import { BatchProgress } from './batch-progress.js';
import type { SyncedState } from './synced-state.js';

/**
 * Heartbeat intervals a zone waits for global to answer its hello (60 s by default), where a
 * stream global already answered is given up after 3 silent ones. When global restarts, every
 * zone redials at once and global welcomes them one after another: 10,000 zones took it longer
 * than 15 s, and the zones that gave up redialed into the same queue, so the storm fed itself
 * (a tenth of them redialed at 5,000 zones; none do with this wait).
 */
const HELLO_ANSWER_INTERVALS = 12;

export interface SyncStreamOptions {
  client: GlobalSyncClient;
  token: string;
  zone: string;
  mode: SyncMode;
  heartbeatIntervalMs: number;
  state: SyncedState;
  applier: BatchApplier;
  clock: Clock;
  logger: Logger;
}

export interface SyncStreamEvents {
  welcomed(effectiveMode: SyncMode, globalVersion: number): void;
  applied(version: number, kind: 'snapshot' | 'delta'): void;
  /** A batch was nacked; the stream stays up unless `ended` follows. */
  rejected(reason: string): void;
  /** The stream is over (global ended it, it failed, or it went silent); redial. Called once. */
  ended(reason: string): void;
}

/**
 * One Sync stream to global: Hello, then apply-and-ack every batch, heartbeat every interval,
 * and give up on a stream that has said nothing for three intervals (it may look open while the
 * path to global is dead). Reconnecting is the caller's job.
 */
export class SyncStream {
  private readonly call: ClientDuplexStream<ZoneMessage, GlobalMessage__Output>;
  private readonly receiver: BatchReceiver;
  private readonly progress: BatchProgress;
  private readonly heartbeat: NodeJS.Timeout;
  private lastHeardAt: number;
  private effectiveMode: SyncMode = 'off';
  private over = false;
  private welcomed = false;
  /**
   * The stream carried a message of this zone's since the last heartbeat tick: global counts any
   * message as the zone alive, so that tick sends no heartbeat. A zone acking a batch every few
   * seconds sends none at all, where 10,000 zones heartbeating every 5 s were 2,000 round trips a
   * second for global to answer, and a tenth of the messages each zone handled.
   */
  private sentSinceTick = false;
  /**
   * When the first heartbeat since global was last heard went out. A silent stream is given up
   * only once one has waited two intervals for its answer, as when a heartbeat went every
   * interval: after an ack the next heartbeat may go two intervals after global was last heard.
   */
  private askedAt: number | undefined;
  /** Messages are handled one after another: applying a batch awaits the store. */
  private handling: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: SyncStreamOptions,
    private readonly events: SyncStreamEvents,
  ) {
    const { clock, state } = options;
    this.receiver = options.applier.newReceiver();
    this.progress = new BatchProgress(options.logger, clock);
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${options.token}`);
    this.call = options.client.Sync(metadata);
    this.lastHeardAt = clock.now();
    this.call.on('data', (message: GlobalMessage__Output) => {
      // Heard when it arrives, not when its turn comes: while this zone applies a big batch, the
      // chunks and heartbeat answers queued behind it show global is there.
      this.lastHeardAt = clock.now();
      this.askedAt = undefined;
      this.handling = this.handling.then(() => this.receive(message)).catch((error: unknown) => this.end(`could not handle a message from global: ${(error as Error).message}`));
    });
    this.call.on('error', (error: ServiceError) => this.end(`${status[error.code] ?? error.code}: ${error.details || error.message}`));
    this.call.on('end', () => this.end('global ended the stream'));
    this.send({
      hello: {
        zone: options.zone,
        mode: toProtoMode(options.mode),
        epoch: state.epoch,
        appliedVersion: state.appliedVersion,
        appliedVersionId: state.appliedVersionId,
        appliedMode: toProtoMode(state.appliedMode),
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        softwareVersion: meshauthVersion,
      },
    });
    this.heartbeat = setInterval(() => {
      const now = clock.now();
      const silentFor = now - this.lastHeardAt;
      const limit = (this.welcomed ? 3 : HELLO_ANSWER_INTERVALS) * options.heartbeatIntervalMs;
      const asked = !this.welcomed || (this.askedAt !== undefined && now - this.askedAt >= 2 * options.heartbeatIntervalMs);
      if (silentFor > limit && asked) return this.end(this.welcomed ? `no message from global for ${silentFor} ms; re-establishing the stream` : `global has not answered this zone's hello for ${silentFor} ms; dialing again`);
      if (this.sentSinceTick) {
        this.sentSinceTick = false;
        return;
      }
      this.askedAt ??= now;
      this.send({ heartbeat: { sentAtMs: now } });
    }, options.heartbeatIntervalMs);
  }

  /** Ends the stream without reporting it (the client is stopping). */
  close(): void {
    this.over = true;
    this.release();
  }

  private end(reason: string): void {
    if (this.over) return;
    this.over = true;
    this.release();
    this.events.ended(reason);
  }

  private release(): void {
    clearInterval(this.heartbeat);
    this.call.removeAllListeners();
    this.call.on('error', () => {});
    this.call.end();
    this.call.cancel();
  }

  private send(message: ZoneMessage): void {
    if (this.over) return;
    this.call.write(message);
    if (!message.heartbeat) this.sentSinceTick = true;
  }

  private async receive(message: GlobalMessage__Output): Promise<void> {
    if (this.over) return;
    this.options.state.contact(this.options.clock.now(), this.options.heartbeatIntervalMs);
    if (message.message === 'welcome') {
      this.welcomed = true;
      this.effectiveMode = fromProtoMode(message.welcome!.effectiveMode);
      this.events.welcomed(this.effectiveMode, message.welcome!.version);
    } else if (message.message === 'batch') {
      await this.batch(message.batch!);
    }
  }

  private async batch(chunk: NonNullable<GlobalMessage__Output['batch']>): Promise<void> {
    let received;
    this.progress.chunk(chunk);
    try {
      received = await this.receiver.add(chunk, this.effectiveMode);
    } catch (error) {
      this.send({ nack: { version: chunk.toVersion, reason: (error as Error).message } });
      return this.end((error as Error).message);
    }
    if (!received) return;
    let result;
    try {
      result = await this.options.applier.apply(received, this.effectiveMode);
    } catch (error) {
      result = { ok: false as const, version: chunk.toVersion, reason: `could not store the batch: ${(error as Error).message}`, reconnect: false };
    }
    // Stored is stored, even if the stream ended meanwhile: the operator's line says so.
    if (result.ok) this.progress.applied();
    if (this.over) return;
    if (result.ok) {
      this.send({ ack: { version: result.version } });
      return this.events.applied(result.version, received.header.kind);
    }
    this.progress.abandon();
    this.send({ nack: { version: result.version, reason: result.reason } });
    this.events.rejected(`could not apply version ${result.version}: ${result.reason}`);
    if (result.reconnect) this.end(result.reason);
  }
}
