import { Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { MeshAuthError, syncProto, MAX_SYNC_MESSAGE_BYTES, type GlobalMessage, type PlaneContext, type SyncMode, type ZoneMessage__Output } from '@meshauth/core';
import { syncServerCredentials } from './sync-server-credentials.js';
import { authenticateZone } from './zone-authentication.js';
import { ZoneRegistry } from './zone-registry.js';
import { ZoneSession } from './zone-session.js';
import { ZoneSessions } from './zone-sessions.js';

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
 * Global's side of sync: the gRPC service zones dial. Authenticates each stream (zone token of
 * scope cp), hands it to a ZoneSession, fans every user-token family change out to all zones,
 * and keeps the change log within its retention.
 */
export async function startSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const { ctx } = options;
  const { store, clock, logger } = ctx;
  const family = ctx.families.user.family;
  const registry = new ZoneRegistry(clock, () => store.version);
  const sessions = new ZoneSessions({
    store,
    familyId: family.name.id,
    stateSize: () => family.keys.size + family.revocations.size,
    verifier: ctx.families.zone.verifier,
    allowed: ctx.config.multizone.global.syncUserTokenKeys as SyncMode,
    registry,
    logger,
    clock,
  });
  const unsubscribe = family.onChange((change) => sessions.fanOut(change));

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
    // Zones ping every 20 s; allow that, and find dead peers ourselves too.
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
      new ZoneSession(call, auth.token, auth.claims.Zone, sessions).start();
    },
  });
  if (!options.tls && ctx.config.multizone.global.syncUserTokenKeys === 'private') {
    logger.warn('sync allows private keys over plain gRPC: signing keys and zone tokens cross the network unencrypted; set multizone.global.tlsCertFile/tlsKeyFile (grpcs://) outside a trusted network');
  }
  const credentials = syncServerCredentials(options.tls);
  const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const stopBackground = () => {
    unsubscribe();
    clearInterval(pruneTimer);
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  } catch (error) {
    stopBackground();
    throw new MeshAuthError('ERR_INVALID_CONFIG', `cannot serve the sync port on ${address}: ${(error as Error).message}`);
  }

  return {
    port,
    registry,
    async close() {
      stopBackground();
      sessions.closeAll('global control plane is stopping');
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
