import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { syncProto, MAX_SYNC_MESSAGE_BYTES, type Clock, type GlobalSyncClient, type Logger, type Store, type SyncMode, type TokenFamily } from '@meshauth/core';
import { BatchApplier } from './batch-applier.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { SyncStream } from './sync-stream.js';
import type { SyncedState } from './synced-state.js';

export interface SyncClientOptions {
  /**
   * `grpc://host:port` or `grpcs://host:port`, or several (global replicas), comma-separated:
   * dialed in the order given, moving to the next whenever a stream fails.
   */
  address: string;
  /** Read on every dial, so a replaced token file takes effect on the next reconnect. */
  readToken: () => string;
  zone: string;
  /** What this zone asks for. */
  mode: SyncMode;
  /** The zone's user-token family: what global's keys and revocations are written to. */
  family: TokenFamily;
  store: Store;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** PEM CA for grpcs (default: the system roots). */
  caPem?: string | undefined;
  /** Shared with the down policy. */
  state: SyncedState;
}

export type SyncState = 'connecting' | 'connected' | 'backoff' | 'stopped';

/** GET /sync/status: this zone's view of its sync. */
export interface SyncStatusView {
  /** The global replica this zone is connected to (or dials next). */
  globalAddress: string;
  /** Every address configured, in dialing order. */
  globalAddresses: string[];
  zone: string;
  mode: SyncMode;
  effectiveMode: SyncMode | null;
  state: SyncState;
  globalEpoch: string;
  appliedVersion: number;
  /** The id global gave appliedVersion: with globalEpoch, which history of global's store the zone holds. */
  appliedVersionId: string;
  /** Global's version as last heard; appliedVersion trails it while a batch is in flight. */
  globalVersion: number | null;
  lastSyncAt: string | null;
  lastContactAt: string | null;
  lastError: string | null;
  reconnects: number;
  /** Batches received since start. */
  stats: { snapshots: number; deltas: number; nacks: number };
}

export interface SyncClient {
  readonly state: SyncedState;
  start(): void;
  stop(): Promise<void>;
  status(): SyncStatusView;
}

/**
 * The zone's side of sync, usable as a library (a benchmark runs many in one process): keeps one
 * SyncStream to global open, redialing with exponential backoff and jitter whenever it ends. A
 * dropped stream never deletes anything: the zone keeps serving what it last applied.
 */
export function createSyncClient(options: SyncClientOptions): SyncClient {
  const { clock, logger } = options;
  const { state } = options;
  const applier = new BatchApplier(options.family, options.store, state, clock);
  const backoff = new ReconnectBackoff(options.minBackoffMs, options.maxBackoffMs);
  const addresses = options.address.split(',').map((a) => a.trim()).filter(Boolean);
  let addressIndex = 0;
  const stats = { snapshots: 0, deltas: 0, nacks: 0 };
  const channelCredentials = (address: string): ChannelCredentials =>
    address.startsWith('grpcs://') ? credentials.createSsl(options.caPem ? Buffer.from(options.caPem) : null) : credentials.createInsecure();

  let phase: SyncState = 'stopped';
  let effectiveMode: SyncMode | null = null;
  let globalVersion: number | null = null;
  let lastError: string | null = null;
  let reconnects = 0;
  let client: GlobalSyncClient | undefined;
  let stream: SyncStream | undefined;
  let redial: NodeJS.Timeout | undefined;

  const fail = (reason: string) => {
    lastError = reason;
    logger.warn({ global: addresses[addressIndex], reason }, 'sync: stream to global failed');
  };

  const release = () => {
    stream?.close();
    stream = undefined;
    // A fresh channel per attempt: the old connection may be the dead thing we are escaping.
    client?.close();
    client = undefined;
    effectiveMode = null;
  };

  const retry = () => {
    release();
    if (phase === 'stopped') return;
    // Another replica of global, if there is one: the epoch and versions are the database's, so it resumes with a delta.
    addressIndex = (addressIndex + 1) % addresses.length;
    phase = 'backoff';
    redial = setTimeout(dial, backoff.next());
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
      return retry();
    }
    const address = addresses[addressIndex]!;
    client = new (syncProto().GlobalSync)(address.replace(/^grpcs?:\/\//, ''), channelCredentials(address), {
      'grpc.max_receive_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
      // Transport-level liveness on top of our heartbeats (which also catch a stuck global).
      'grpc.keepalive_time_ms': 20_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // This client's own connection, never one grpc-js shares between channels of identical target
      // and options: a redial must not land on the connection it is escaping, and a process holding
      // many zones' clients (the benchmark's swarm) opens one connection per zone, as real zones do.
      'grpc.use_local_subchannel_pool': 1,
    });
    stream = new SyncStream(
      { client, token, zone: options.zone, mode: options.mode, heartbeatIntervalMs: options.heartbeatIntervalMs, state, applier, clock, logger },
      {
        welcomed(mode, version) {
          phase = 'connected';
          backoff.reset();
          effectiveMode = mode;
          globalVersion = version;
          if (mode !== options.mode) logger.warn({ asked: options.mode, effective: mode }, 'sync: global allows less than this zone asks for');
          logger.info({ global: address, effectiveMode: mode, globalVersion: version, appliedVersion: state.appliedVersion }, 'sync: connected to global');
        },
        applied(version, kind) {
          if (kind === 'snapshot') stats.snapshots++;
          else stats.deltas++;
          globalVersion = Math.max(globalVersion ?? 0, version);
          lastError = null;
          logger.debug({ version }, 'sync: applied');
        },
        rejected(reason) {
          stats.nacks++;
          fail(reason);
        },
        ended(reason) {
          fail(reason);
          retry();
        },
      },
    );
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
      release();
    },
    status() {
      const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
      return {
        globalAddress: addresses[addressIndex]!,
        globalAddresses: addresses,
        zone: options.zone,
        mode: options.mode,
        effectiveMode,
        state: phase,
        globalEpoch: state.epoch,
        appliedVersion: state.appliedVersion,
        appliedVersionId: state.appliedVersionId,
        globalVersion,
        lastSyncAt: iso(state.lastSyncAt),
        lastContactAt: iso(state.lastContactAt),
        lastError,
        reconnects: Math.max(0, reconnects),
        stats: { ...stats },
      };
    },
  };
}
