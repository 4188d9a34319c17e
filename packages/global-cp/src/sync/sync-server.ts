import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  encodeBatch,
  fromProtoMode,
  syncProto,
  MAX_SYNC_MESSAGE_BYTES,
  type Batch,
  type FamilyChange,
  type GlobalMessage,
  type Hello__Output,
  type PlaneContext,
  type SyncMode,
  type ZoneMessage__Output,
} from '@meshauth/core';
import { changeContent, deltaContent, snapshotContent, snapshotReason } from './sync-batches.js';
import type { SyncServerDeps } from './sync-server-deps.js';
import { authenticateZone } from './zone-authentication.js';
import { ZoneRegistry } from './zone-registry.js';
import { ZoneSession } from './zone-session.js';

export interface SyncServer {
  port: number;
  registry: ZoneRegistry;
  close(): Promise<void>;
}

export interface SyncServerOptions {
  ctx: PlaneContext;
  host: string;
  port: number;
  /** PEM cert chain and key: serve grpcs. Absent: plaintext grpc. */
  tls?: { cert: string; key: string } | undefined;
}

/** How often the change log is trimmed to multizone.global.changeLogRetention. */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * Global's side of the sync stream: authenticates zones, sends each its initial snapshot or
 * delta, and fans every change of the user-token family out to all connected zones (each
 * change encoded once per mode, whatever the number of zones).
 */
export async function startSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const { ctx } = options;
  const { store, clock, logger } = ctx;
  const family = ctx.families.user.family;
  const allowed = ctx.config.multizone.global.syncUserTokenKeys as SyncMode;
  const registry = new ZoneRegistry(clock, () => store.version);
  const sessions = new Map<string, ZoneSession>();

  const deps: SyncServerDeps = {
    store,
    verifier: ctx.families.zone.verifier,
    allowed,
    registry,
    logger,
    clock,
    register(session, hello) {
      const previous = sessions.get(session.zone);
      sessions.set(session.zone, session);
      registry.connected(session.zone, session, session.mode, hello.appliedVersion, hello.softwareVersion);
      previous?.end(status.ABORTED, 'replaced by a newer stream of the same zone');
    },
    unregister(session) {
      if (sessions.get(session.zone) === session) sessions.delete(session.zone);
      registry.disconnected(session.zone, session);
    },
    initialSync(session, hello) {
      sendInitial(session, hello);
    },
  };

  const sendInitial = (session: ZoneSession, hello: Hello__Output) => {
    const version = store.version;
    const reason = snapshotReason(store, family.name.id, {
      epoch: hello.epoch,
      appliedVersion: hello.appliedVersion,
      appliedModeMatches: fromProtoMode(hello.appliedMode) === session.mode,
    });
    if (reason) {
      const batches = encodeBatch({ kind: 'snapshot', epoch: store.epoch, fromVersion: 0, toVersion: version, committedAt: clock.now() }, snapshotContent(store, family.name.id), session.mode);
      logger.info({ zone: session.zone, reason, version, chunks: batches.length }, 'sync: sending snapshot');
      session.send(batches, version);
    } else if (hello.appliedVersion < version) {
      sendDelta(session, hello.appliedVersion);
      logger.info({ zone: session.zone, from: hello.appliedVersion, to: version }, 'sync: sent delta');
    } else {
      session.sentVersion = version;
    }
  };

  const sendDelta = (session: ZoneSession, from: number) => {
    const to = store.version;
    const content = deltaContent(store, family.name.id, store.changesSince(from));
    session.send(encodeBatch({ kind: 'delta', epoch: store.epoch, fromVersion: from, toVersion: to, committedAt: clock.now() }, content, session.mode), to);
  };

  const fanOut = (change: FamilyChange) => {
    if (change.version === 0) return;
    registry.committed(change.version, clock.now());
    const encoded = new Map<SyncMode, Batch[]>();
    const batchesFor = (mode: SyncMode) => {
      let batches = encoded.get(mode);
      if (!batches) {
        const header = { kind: 'delta' as const, epoch: store.epoch, fromVersion: change.version - 1, toVersion: change.version, committedAt: clock.now() };
        batches = encodeBatch(header, changeContent(change), mode);
        encoded.set(mode, batches);
      }
      return batches;
    };
    for (const session of sessions.values()) {
      if (!session.live || session.mode === 'off') continue;
      // Contiguous: the change alone. Otherwise (never expected) whatever the log says it missed.
      if (session.sentVersion === change.version - 1) session.send(batchesFor(session.mode), change.version);
      else if (session.sentVersion < change.version) sendDelta(session, session.sentVersion);
    }
  };
  const unsubscribe = family.onChange(fanOut);

  const prune = () => {
    try {
      store.transaction(() => store.pruneChangeLog(ctx.config.multizone.global.changeLogRetention));
    } catch (error) {
      logger.error({ err: error }, 'sync: could not prune the change log');
    }
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
  pruneTimer.unref();

  const server = new Server({
    'grpc.max_receive_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
    'grpc.max_send_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
    // Zones ping every 20 s; answer them, and find dead peers ourselves too.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  server.addService(syncProto().GlobalSync.service, {
    Sync(call: ServerDuplexStream<ZoneMessage__Output, GlobalMessage>) {
      const auth = authenticateZone(call.metadata, ctx.families.zone.verifier);
      if (!auth.ok) {
        logger.warn({ peer: call.getPeer(), reason: auth.reason }, 'sync: zone refused');
        call.emit('error', { code: auth.code, details: auth.reason });
        return;
      }
      new ZoneSession(call, auth.token, auth.claims.Zone, deps).start();
    },
  });
  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(options.tls.cert), private_key: Buffer.from(options.tls.key) }], false)
    : ServerCredentials.createInsecure();
  const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  } catch (error) {
    unsubscribe();
    clearInterval(pruneTimer);
    throw error;
  }

  return {
    port,
    registry,
    async close() {
      unsubscribe();
      clearInterval(pruneTimer);
      for (const session of sessions.values()) session.end(status.UNAVAILABLE, 'global control plane is stopping');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
