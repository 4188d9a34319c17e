import {
  ADMIN_TOKEN_SECRET,
  createPlaneContext,
  ensureAdminToken,
  ensureSigningKey,
  newInstanceId,
  openStore,
  recordPruningTasks,
  registerZoneTokenRoutes,
  startApiListeners,
  startDiagnosticsServer,
  startLeaderWork,
  systemClock,
  type ApiApp,
  type Clock,
  type Logger,
  type MeshAuthConfig,
  type PlaneContext,
  type TokenFamily,
} from '@meshauth/core';
import { startSyncServer } from './sync/sync-server.js';
import { registerZoneMetrics, registerZonesRoute } from './sync/zones-route.js';
import { syncServerTls } from './sync/sync-server-tls.js';
import type { ZoneRegistry } from './sync/zone-registry.js';

export interface GlobalControlPlane {
  ctx: PlaneContext;
  httpPort: number;
  httpsPort: number | undefined;
  syncPort: number;
  /** GET /ready and GET /healthy (5680). */
  diagnosticsPort: number;
  /** Whether the stored admin user token (global secret admin-user-token) exists, for the ready line's hint. */
  adminTokenStored: boolean;
  close(): Promise<void>;
}

/** The routes only global serves, beside core's (the contract test builds its app with these too). */
export function globalApiRoutes(ctx: PlaneContext, registry: ZoneRegistry): (app: ApiApp) => void {
  return (app) => {
    registerZoneTokenRoutes(app, ctx);
    registerZonesRoute(app, ctx.access, registry);
  };
}

async function pruneExpiredRevocations(families: TokenFamily[]): Promise<void> {
  for (const family of families) await family.pruneExpiredRevocations();
}

export interface StartGlobalOptions {
  config: MeshAuthConfig;
  logger: Logger;
  clock?: Clock;
}

/**
 * Opens the store, makes sure the first-start credentials exist (once, however many replicas
 * start together), serves the API and the sync stream. Every replica does the same; the one
 * holding the leader lease also prunes.
 */
export async function startGlobalControlPlane(options: StartGlobalOptions): Promise<GlobalControlPlane> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  // First, so that probes get an answer ("starting") while the store opens and loads.
  const diagnostics = await startDiagnosticsServer({ port: config.diagnostics.serverPort, host: config.diagnostics.serverInterface, logger });
  const closers: (() => Promise<void> | void)[] = [() => diagnostics.close()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const store = await openStore(config, 'global');
    closers.push(() => store.close());
    const instance = newInstanceId();
    const ctx = await createPlaneContext({ plane: 'global', config, store, instance, logger, clock });
    closers.push(() => ctx.families.feed.stop());
    await ensureSigningKey(ctx.families.user.family, logger);
    await ensureSigningKey(ctx.families.zone.family, logger);
    if (config.apiServer.authn.tokens.bootstrapAdminToken) await ensureAdminToken(ctx, logger);

    // Pruning, by one replica for all: expired revocations hourly, the change log every minute.
    const lease = store.lease('global-leader', instance);
    closers.push(() => lease.release());
    closers.push(
      startLeaderWork(lease, logger, {
        role: 'the periodic work (pruning)',
        periodic: [
          { name: 'prune expired revocations', everyMs: 3_600_000, run: () => pruneExpiredRevocations([ctx.families.user.family, ctx.families.zone.family]) },
          { name: 'prune the change log', everyMs: 60_000, run: () => store.transaction((tx) => tx.pruneChangeLog(config.multizone.global.changeLogRetention)) },
          ...recordPruningTasks(ctx),
        ],
      }),
    );

    const { syncInterface, syncPort } = config.multizone.global;
    const sync = await startSyncServer({ ctx, host: syncInterface, port: syncPort, tls: syncServerTls(config) });
    closers.push(() => sync.close());
    registerZoneMetrics(ctx, sync.registry);

    const api = await startApiListeners(ctx, globalApiRoutes(ctx, sync.registry));
    closers.push(() => api.close());

    // Started: the store is open and its keys and revocations are in memory.
    diagnostics.setReadiness(() => undefined);
    const adminTokenStored = (await store.read.getSecret('', ADMIN_TOKEN_SECRET)) !== undefined;
    return { ctx, httpPort: api.httpPort, httpsPort: api.httpsPort, syncPort: sync.port, diagnosticsPort: diagnostics.port, adminTokenStored, close };
  } catch (error) {
    await close();
    throw error;
  }
}
