import { credentials, Metadata, status, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  BatchAssembler,
  fromProtoMode,
  syncProto,
  toProtoMode,
  MAX_SYNC_MESSAGE_BYTES,
  meshauthVersion,
  type Clock,
  type GlobalMessage__Output,
  type GlobalSyncClient,
  type Logger,
  type SqliteStore,
  type SyncMode,
  type TokenFamily,
  type ZoneMessage,
} from '@meshauth/core';
import { BatchApplier } from './batch-applier.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { SyncedState } from './synced-state.js';

export interface SyncClientOptions {
  /** `grpc://host:port` or `grpcs://host:port`. */
  address: string;
  /** Read on every dial, so a replaced token file takes effect on the next reconnect. */
  readToken: () => string;
  zone: string;
  /** What this zone asks for. */
  mode: SyncMode;
  /** The zone's user-token family: what global's keys and revocations are written to. */
  family: TokenFamily;
  store: SqliteStore;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** PEM CA for grpcs (default: the system roots). */
  caPem?: string | undefined;
  /** Shared with the down policy; created from the store when absent. */
  state?: SyncedState;
}

export type SyncState = 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface SyncStatusView {
  globalAddress: string;
  zone: string;
  mode: SyncMode;
  effectiveMode: SyncMode | null;
  state: SyncState;
  globalEpoch: string;
  appliedVersion: number;
  /** Global's version as last heard; appliedVersion trails it while a batch is in flight. */
  globalVersion: number | null;
  lastSyncAt: string | null;
  lastContactAt: string | null;
  lastError: string | null;
  reconnects: number;
}

export interface SyncClient {
  readonly state: SyncedState;
  start(): void;
  stop(): Promise<void>;
  status(): SyncStatusView;
}

/**
 * The zone's side of the sync stream, usable as a library (a benchmark runs many in one process):
 * dials global, says Hello with what it applied, applies each batch atomically and acks it (or
 * nacks it and keeps its state), heartbeats, and redials with backoff whenever the stream ends or
 * goes silent for three heartbeat intervals. A dropped stream never deletes anything.
 */
export function createSyncClient(options: SyncClientOptions): SyncClient {
  const { clock, logger } = options;
  const state = options.state ?? new SyncedState(options.store);
  const applier = new BatchApplier(options.family, state, clock);
  const backoff = new ReconnectBackoff(options.minBackoffMs, options.maxBackoffMs);
  const assembler = new BatchAssembler();
  const target = options.address.replace(/^grpcs?:\/\//, '');
  const channelCredentials: ChannelCredentials = options.address.startsWith('grpcs://')
    ? credentials.createSsl(options.caPem ? Buffer.from(options.caPem) : null)
    : credentials.createInsecure();

  let phase: SyncState = 'stopped';
  let effectiveMode: SyncMode | null = null;
  let globalVersion: number | null = null;
  let lastError: string | null = null;
  let reconnects = 0;
  let client: GlobalSyncClient | undefined;
  let call: ClientDuplexStream<ZoneMessage, GlobalMessage__Output> | undefined;
  let lastHeardAt = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let redial: NodeJS.Timeout | undefined;

  const fail = (message: string) => {
    lastError = message;
    logger.warn({ global: options.address, reason: message }, 'sync: stream to global failed');
  };

  const teardown = () => {
    clearInterval(heartbeat);
    heartbeat = undefined;
    assembler.reset();
    const ending = call;
    call = undefined;
    ending?.removeAllListeners();
    ending?.on('error', () => {});
    ending?.cancel();
    client?.close();
    client = undefined;
    effectiveMode = null;
  };

  const scheduleReconnect = () => {
    teardown();
    if (phase === 'stopped') return;
    phase = 'backoff';
    const delay = backoff.next();
    redial = setTimeout(dial, delay);
  };

  const send = (message: ZoneMessage) => call?.write(message);

  const onMessage = (message: GlobalMessage__Output) => {
    lastHeardAt = clock.now();
    state.contact(lastHeardAt, options.heartbeatIntervalMs);
    switch (message.message) {
      case 'welcome': {
        const welcome = message.welcome!;
        phase = 'connected';
        backoff.reset();
        effectiveMode = fromProtoMode(welcome.effectiveMode);
        globalVersion = welcome.version;
        if (effectiveMode !== options.mode) {
          logger.warn({ asked: options.mode, effective: effectiveMode }, 'sync: global allows less than this zone asks for');
        }
        logger.info({ global: options.address, effectiveMode, globalVersion, appliedVersion: state.appliedVersion }, 'sync: connected to global');
        return;
      }
      case 'batch':
        return onBatch(message.batch!);
      default:
        return;
    }
  };

  const onBatch = (batch: NonNullable<GlobalMessage__Output['batch']>) => {
    let chunks;
    try {
      chunks = assembler.add(batch);
    } catch (error) {
      send({ nack: { version: batch.toVersion, reason: (error as Error).message } });
      fail((error as Error).message);
      return scheduleReconnect();
    }
    if (!chunks) return;
    globalVersion = Math.max(globalVersion ?? 0, batch.toVersion);
    let result;
    try {
      result = applier.apply(chunks, effectiveMode ?? 'off');
    } catch (error) {
      result = { ok: false as const, version: batch.toVersion, reason: `could not store the batch: ${(error as Error).message}`, reconnect: false };
    }
    if (result.ok) {
      send({ ack: { version: result.version } });
      lastError = null;
      logger.debug({ version: result.version, kind: batch.kind }, 'sync: applied');
      return;
    }
    send({ nack: { version: result.version, reason: result.reason } });
    fail(`could not apply version ${result.version}: ${result.reason}`);
    if (result.reconnect) scheduleReconnect();
  };

  function dial(): void {
    redial = undefined;
    if (phase === 'stopped') return;
    phase = 'connecting';
    reconnects++;
    let token: string;
    try {
      token = options.readToken().trim();
    } catch (error) {
      fail(`cannot read the zone token: ${(error as Error).message}`);
      return scheduleReconnect();
    }
    client = new (syncProto().GlobalSync)(target, channelCredentials, {
      'grpc.max_receive_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Our own backoff decides when to redial; keep grpc's reconnects short within one attempt.
      'grpc.initial_reconnect_backoff_ms': options.minBackoffMs,
      'grpc.max_reconnect_backoff_ms': options.maxBackoffMs,
    });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const stream = client.Sync(metadata);
    call = stream;
    lastHeardAt = clock.now();
    stream.on('data', (message: GlobalMessage__Output) => {
      if (call === stream) onMessage(message);
    });
    stream.on('error', (error: ServiceError) => {
      if (call !== stream) return;
      fail(`${status[error.code] ?? error.code}: ${error.details || error.message}`);
      scheduleReconnect();
    });
    stream.on('end', () => {
      if (call !== stream) return;
      fail('global ended the stream');
      scheduleReconnect();
    });
    send({
      hello: {
        zone: options.zone,
        mode: toProtoMode(options.mode),
        epoch: state.epoch,
        appliedVersion: state.appliedVersion,
        appliedMode: toProtoMode(state.appliedMode),
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        softwareVersion: meshauthVersion,
      },
    });
    heartbeat = setInterval(() => {
      const silentFor = clock.now() - lastHeardAt;
      if (silentFor > 3 * options.heartbeatIntervalMs) {
        fail(`no message from global for ${silentFor} ms; re-establishing the stream`);
        return scheduleReconnect();
      }
      send({ heartbeat: { sentAtMs: clock.now() } });
    }, options.heartbeatIntervalMs);
  }

  return {
    state,
    start() {
      if (phase !== 'stopped') return;
      phase = 'connecting';
      reconnects = -1;
      dial();
    },
    async stop() {
      phase = 'stopped';
      clearTimeout(redial);
      const closing = call;
      if (closing) closing.end();
      teardown();
    },
    status() {
      const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
      return {
        globalAddress: options.address,
        zone: options.zone,
        mode: options.mode,
        effectiveMode,
        state: phase,
        globalEpoch: state.epoch,
        appliedVersion: state.appliedVersion,
        globalVersion,
        lastSyncAt: iso(state.lastSyncAt),
        lastContactAt: iso(state.lastContactAt),
        lastError,
        reconnects: Math.max(0, reconnects),
      };
    },
  };
}
