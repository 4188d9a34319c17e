import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { MeshAuthError, listenOn, syncServiceForServer, MAX_SYNC_MESSAGE_BYTES, type OutgoingGlobalMessage, type PlaneContext, type SyncMode, type ZoneMessage__Output } from '@meshauth/core';
import { syncServerCredentials } from './sync-server-credentials.js';
import { authenticateZone } from './zone-authentication.js';
import { ZoneRegistry } from './zone-registry.js';
import { auditRefusal, ZoneSession } from './zone-session.js';
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

/**
 * Global's side of sync: the gRPC service zones dial. Authenticates each stream (zone token of
 * scope cp, re-checked for as long as the stream is open), hands it to a ZoneSession, and fans
 * every version this replica's change feed applies out to the zones connected here.
 */
export async function startSyncServer(options: SyncServerOptions): Promise<SyncServer> {
  const { ctx } = options;
  const { store, clock, logger } = ctx;
  const family = ctx.families.user.family;
  const { feed } = ctx.families;
  const registry = new ZoneRegistry({ store, instance: ctx.instance, clock, logger, globalVersion: () => feed.version });
  await registry.start();
  const sessions = new ZoneSessions({
    store,
    feed,
    familyId: family.name.id,
    stateSize: () => family.keys.size + family.revocations.size,
    allowed: ctx.config.multizone.global.syncUserTokenKeys as SyncMode,
    registry,
    logger,
    clock,
    audit: ctx.audit,
  });
  const unsubscribe = feed.onApplied((applied) => sessions.fanOut(applied));
  // A zone-token revocation or key removal (here or on another replica, through the feed) ends its streams at once; the sweep catches the rest.
  const unsubscribeZoneTokens = ctx.families.zone.family.onChange(() => sessions.recheckCredentials());

  const server = new Server({
    'grpc.max_receive_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
    'grpc.max_send_message_length': MAX_SYNC_MESSAGE_BYTES + 64 * 1024,
    // Zones ping every 20 s; allow that, and find dead peers ourselves too.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  });
  // Batches fanned out to many zones are written as bytes encoded once (EncodedGlobalMessage).
  server.addService(syncServiceForServer(), {
    Sync(call: ServerDuplexStream<ZoneMessage__Output, OutgoingGlobalMessage>) {
      const auth = authenticateZone(call.metadata, ctx.families.zone.verifier);
      if (!auth.ok) {
        logger.warn({ peer: call.getPeer(), reason: auth.reason }, 'sync: zone refused');
        auditRefusal(sessions, `unauthenticated (peer ${call.getPeer()})`, auth.reason);
        call.emit('error', { code: auth.code, details: auth.reason });
        return;
      }
      new ZoneSession(call, auth.credential, sessions).start();
    },
  });
  if (!options.tls && ctx.config.multizone.global.syncUserTokenKeys === 'private') {
    logger.warn('sync allows private keys over plain gRPC: signing keys and zone tokens cross the network unencrypted; set multizone.global.tlsCertFile/tlsKeyFile (grpcs://) outside a trusted network');
  }
  const credentials = syncServerCredentials(options.tls);
  const stopBackground = () => {
    unsubscribe();
    unsubscribeZoneTokens();
  };
  const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  // Our own listener, its connections handed to grpc-js: bindAsync listens with Node's default
  // accept queue of 511, and when global restarts every zone redials at once. With 5,000 zones
  // the queue overflowed, the kernel reset connections, and their redials made the storm longer.
  let injector: ReturnType<Server['createConnectionInjector']> | undefined;
  let port: number;
  const listener = createServer((socket) => injector!.injectConnection(socket));
  try {
    injector = server.createConnectionInjector(credentials);
    port = await listenOn(options.port, 'multizone.global.syncPort', () => listen(listener, options.host, options.port));
  } catch (error) {
    stopBackground();
    injector?.destroy();
    await registry.stop();
    if (error instanceof MeshAuthError) throw error;
    throw new MeshAuthError('ERR_INVALID_CONFIG', `cannot serve the sync port on ${address}: ${(error as Error).message}`);
  }

  return {
    port,
    registry,
    async close() {
      stopBackground();
      listener.close();
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
      await registry.stop();
    },
  };
}

/**
 * Pending connections the sync port's accept queue holds (the kernel caps it at
 * net.core.somaxconn, 4096 on most current Linux).
 */
export const SYNC_ACCEPT_BACKLOG = 16_384;

/** Listens on host:port (0: any free port); resolves with the port, rejects with the listen error (EADDRINUSE and the like). */
function listen(listener: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port, backlog: SYNC_ACCEPT_BACKLOG, exclusive: true }, () => {
      listener.off('error', reject);
      resolve((listener.address() as AddressInfo).port);
    });
  });
}
