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

export interface GlobalControlPlane {
  ctx: PlaneContext;
  httpPort: number;
  httpsPort: number | undefined;
  close(): Promise<void>;
}

export interface StartGlobalOptions {
  config: MeshAuthConfig;
  logger: Logger;
  clock?: Clock;
}

/** Hourly: drop revocations of tokens that have expired anyway. */
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
    if (config.apiServer.authn.localhostIsAdmin) {
      logger.warn('localhostIsAdmin is on: requests from this machine without a token act as mesh-system:admin');
    }
    if (config.apiServer.authn.type === 'adminClientCerts') {
      logger.warn('apiServer.authn.type adminClientCerts is deprecated: migrate to user tokens');
    }

    const prune = setInterval(() => {
      for (const family of [ctx.families.user.family, ctx.families.zone.family]) family.pruneExpiredRevocations();
    }, PRUNE_INTERVAL_MS);
    prune.unref();
    closers.push(() => clearInterval(prune));

    const api = await startApiListeners(ctx, (app) => registerZoneTokenRoutes(app, ctx));
    closers.push(() => api.close());

    return { ctx, httpPort: api.httpPort, httpsPort: api.httpsPort, close };
  } catch (error) {
    await close();
    throw error;
  }
}
