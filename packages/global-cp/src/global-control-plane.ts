import {
  createPlaneContext,
  ensureAdminToken,
  ensureSigningKey,
  registerZoneTokenRoutes,
  SqliteStore,
  startApiListeners,
  systemClock,
  type Clock,
  type Logger,
  type MeshAuthConfig,
  type PlaneContext,
} from '@meshauth/core';
import { startSyncServer } from './sync/sync-server.js';
import { registerZoneMetrics, registerZonesRoute } from './sync/zones-route.js';
import { syncServerTls } from './sync/sync-server-tls.js';

export interface GlobalControlPlane {
  ctx: PlaneContext;
  httpPort: number;
  httpsPort: number | undefined;
  syncPort: number;
  close(): Promise<void>;
}

export interface StartGlobalOptions {
  config: MeshAuthConfig;
  logger: Logger;
  clock?: Clock;
}

/** At start, then hourly: drop revocations of tokens that have expired anyway. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** Opens the store, makes sure the first-start credentials exist, serves the API. */
export async function startGlobalControlPlane(options: StartGlobalOptions): Promise<GlobalControlPlane> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const store = SqliteStore.open(config.store.sqlite.path || './data/global.db');
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const ctx = createPlaneContext({ plane: 'global', config, store, logger, clock });
    await ensureSigningKey(ctx.families.user.family, logger);
    await ensureSigningKey(ctx.families.zone.family, logger);
    if (config.apiServer.authn.tokens.bootstrapAdminToken) await ensureAdminToken(store, ctx.families.user, logger);

    const prune = () => {
      for (const family of [ctx.families.user.family, ctx.families.zone.family]) family.pruneExpiredRevocations();
    };
    // At start too: a plane restarted more often than hourly would otherwise never prune.
    prune();
    const pruneTimer = setInterval(prune, PRUNE_INTERVAL_MS);
    pruneTimer.unref();
    closers.push(() => clearInterval(pruneTimer));

    const { syncInterface, syncPort } = config.multizone.global;
    const sync = await startSyncServer({ ctx, host: syncInterface, port: syncPort, tls: syncServerTls(config) });
    closers.push(() => sync.close());
    registerZoneMetrics(ctx, sync.registry);

    const api = await startApiListeners(ctx, (app) => {
      registerZoneTokenRoutes(app, ctx);
      registerZonesRoute(app, ctx.access, sync.registry);
    });
    closers.push(() => api.close());

    return { ctx, httpPort: api.httpPort, httpsPort: api.httpsPort, syncPort: sync.port, close };
  } catch (error) {
    await close();
    throw error;
  }
}
