import { readFileSync } from 'node:fs';
import {
  ADMIN_TOKEN_SECRET,
  createPlaneContext,
  ensureAdminToken,
  ensureSigningKey,
  configError,
  newInstanceId,
  openStore,
  parseDuration,
  startApiListeners,
  startDiagnosticsServer,
  startDpServer,
  startLeaderWork,
  recordPruningTasks,
  systemClock,
  type Clock,
  type Logger,
  type MeshAuthConfig,
  type LeaderTask,
  type PlaneContext,
  type SyncMode,
  type TokenFamily,
} from '@meshauth/core';
import { downPolicyRefusal } from './sync/down-policy.js';
import { createSyncClient, type SyncClient } from './sync/sync-client.js';
import { registerSyncMetrics, registerSyncStatusRoute } from './sync/sync-status-route.js';
import { SyncedState } from './sync/synced-state.js';
import { zoneReadiness } from './sync/zone-readiness.js';

export interface ZoneControlPlane {
  ctx: PlaneContext;
  httpPort: number;
  httpsPort: number | undefined;
  /** The dataplane bootstrap server (5678). */
  dpServerPort: number;
  /** GET /ready and GET /healthy (5680). */
  diagnosticsPort: number;
  /** Whether the stored admin user token (global secret admin-user-token) exists, for the ready line's hint. */
  adminTokenStored: boolean;
  /** The stream to global; undefined when no global address is configured. */
  sync: SyncClient | undefined;
  close(): Promise<void>;
}

export interface StartZoneOptions {
  config: MeshAuthConfig;
  logger: Logger;
  clock?: Clock;
}

/** Hourly: drop revocations of tokens that have expired anyway (only for state the zone owns). */
const PRUNE_INTERVAL_MS = 3_600_000;
/** A replica not streaming reads the leader's sync position (last contact, applied version) this often. */
const FOLLOW_INTERVAL_MS = 1_000;

/**
 * A zone: its own store and API server (the routes core shares with global), and, when
 * multizone.zone.globalAddress is set, the sync stream to global. With sync on (mode public or
 * private) user-token keys and revocations are global's: the zone mirrors them, refuses API
 * writes to them and skips its own user-key and admin-token bootstrap.
 */
export async function startZoneControlPlane(options: StartZoneOptions): Promise<ZoneControlPlane> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const zoneConfig = config.multizone.zone;
  if (!zoneConfig.name) throw configError('MESHAUTH_MULTIZONE_ZONE_NAME is required on a zone control plane');
  const mode = zoneConfig.syncUserTokenKeys as SyncMode;
  const syncOn = zoneConfig.globalAddress !== '' && mode !== 'off';
  if (zoneConfig.globalAddress && !zoneConfig.globalTokenFile) {
    throw configError('MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE is required with MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS');
  }

  // First, so that probes get an answer ("starting") while the store opens and loads.
  const diagnostics = await startDiagnosticsServer({ port: config.diagnostics.serverPort, host: config.diagnostics.serverInterface, logger });
  const closers: (() => Promise<void> | void)[] = [() => diagnostics.close()];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const store = await openStore(config, 'zone');
    closers.push(() => store.close());
    const instance = newInstanceId();
    const synced = await SyncedState.load(store, logger);
    const refuseUserKey = syncOn ? downPolicyRefusal(zoneConfig.downPolicy, synced, clock) : undefined;
    let ctx: PlaneContext | undefined;
    ctx = await createPlaneContext({
      plane: 'zone',
      config,
      store,
      instance,
      logger,
      clock,
      ...(refuseUserKey ? { refuseUserKey } : {}),
      // With sync on, only private keys global sent in private mode may sign here.
      userTokenIssuingRefusal: () =>
        syncOn && (synced.appliedMode !== 'private' || ctx!.families.user.family.keys.signer?.origin !== 'synced')
          ? issuingRefusal(mode, synced.appliedVersion)
          : undefined,
    });
    const user = ctx.families.user.family;
    closers.push(() => ctx!.families.feed.stop());

    if (syncOn) {
      user.managedBy = `managed by the global control plane (sync mode ${mode}); make this change there`;
      await store.exclusive('bootstrap', () => dropKeysSyncReplaces(user, mode, logger));
    } else {
      // Independent zone, as in Kuma: its own user-token key and admin token.
      if (synced.appliedVersion > 0) {
        await synced.forget();
        logger.info('sync is off: user-token keys and revocations synced earlier are now this zone\'s own');
      }
      await ensureSigningKey(user, logger);
      // Keys synced earlier in public mode verify but cannot sign: the zone needs one of its own.
      if (!user.keys.signer) {
        const key = await user.generateKey();
        logger.info({ serial: key.serial }, 'created user token signing key (the synced ones hold no private key)');
      }
      if (config.apiServer.authn.tokens.bootstrapAdminToken) await ensureAdminToken(ctx, logger);
    }

    let sync: SyncClient | undefined;
    if (zoneConfig.globalAddress) {
      if (mode === 'private' && zoneConfig.globalAddress.startsWith('grpc://')) {
        logger.warn('asking for private signing keys over plain gRPC (grpc://): use grpcs:// outside a trusted network');
      }
      sync = createSyncClient({
        address: zoneConfig.globalAddress,
        readToken: () => readFileSync(zoneConfig.globalTokenFile, 'utf8'),
        zone: zoneConfig.name,
        mode,
        family: user,
        store,
        clock,
        logger,
        heartbeatIntervalMs: parseDuration(zoneConfig.heartbeatInterval),
        minBackoffMs: parseDuration(zoneConfig.reconnectMinBackoff),
        maxBackoffMs: parseDuration(zoneConfig.reconnectMaxBackoff),
        caPem: readCa(zoneConfig.globalCaFile),
        state: synced,
      });
      registerSyncMetrics(ctx, sync);
    }

    // Replicas of one zone share its store; the one holding the lease streams from global and
    // prunes, the others follow the store (memory through the change feed, the position here).
    const lease = store.lease('zone-leader', instance);
    closers.push(() => lease.release());
    const periodic: LeaderTask[] = [
      { name: 'prune the change log', everyMs: 60_000, run: () => store.transaction((tx) => tx.pruneChangeLog(config.multizone.global.changeLogRetention)) },
      ...recordPruningTasks(ctx),
    ];
    // Only state the zone owns: synced revocations are global's to prune.
    if (!syncOn) periodic.push({ name: 'prune expired revocations', everyMs: PRUNE_INTERVAL_MS, run: async () => void (await user.pruneExpiredRevocations()) });
    closers.push(
      startLeaderWork(lease, logger, {
        role: sync ? 'the sync stream to global and the periodic work (pruning)' : 'the periodic work (pruning)',
        periodic,
        lead: () => {
          if (!sync) return;
          // Where the previous leader left it: the stream resumes with a delta.
          void synced.refresh().then(
            () => lease.held && sync!.start(),
            (error: unknown) => logger.error({ err: error }, 'sync: could not read the sync position from the store; not streaming'),
          );
        },
        follow: () => {
          if (!sync) return;
          void sync.stop();
          logger.warn('sync: this replica lost the zone leader lease; it stops streaming to global (the leader streams)');
        },
      }),
    );
    if (sync) {
      closers.push(() => sync!.stop());
      const follow = setInterval(() => {
        if (!lease.held) synced.refresh().catch((error: unknown) => logger.warn({ err: error }, 'sync: could not read the sync position from the store'));
      }, FOLLOW_INTERVAL_MS);
      follow.unref();
      closers.push(() => clearInterval(follow));
    }

    const api = await startApiListeners(ctx, (app) => {
      registerSyncStatusRoute(app, ctx!, sync, lease);
    });
    closers.push(() => api.close());

    // The dp-server (dataplane bootstrap, 5678): dataplane tokens of this zone's own mesh keys.
    const dpServer = await startDpServer(ctx, { port: config.dpServer.port, host: config.dpServer.interface });
    closers.push(() => dpServer.close());
    const dpServerPort = dpServer.port;

    diagnostics.setReadiness(zoneReadiness({ syncOn, downPolicy: zoneConfig.downPolicy, state: synced, clock }));
    const adminTokenStored = (await store.read.getSecret('', ADMIN_TOKEN_SECRET)) !== undefined;
    return { ctx, httpPort: api.httpPort, httpsPort: api.httpsPort, dpServerPort, diagnosticsPort: diagnostics.port, adminTokenStored, sync, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The synced keys replace the zone's own (as the docs' manual copy does), and a zone that does not
 * ask for private keys keeps none, even ones it held before: until global's first snapshot
 * arrives it must not mint a token with a key of its own or of an earlier private mode.
 */
async function dropKeysSyncReplaces(user: TokenFamily, mode: SyncMode, logger: Logger): Promise<void> {
  const own = user.keys.list().filter((k) => k.origin === 'local').map((k) => k.serial);
  const strip = mode === 'private' ? [] : user.keys.list().filter((k) => k.origin === 'synced' && k.privateKey);
  if (own.length === 0 && strip.length === 0) return;
  await user.applySynced(
    {
      replace: false,
      keysDeleted: own,
      keysPut: strip.map((k) => ({ ...k, privateKey: undefined, privatePem: undefined })),
      revocationsAdded: [],
      revocationsDeleted: [],
      staged: false,
    },
    async () => {},
  );
  logger.info({ removed: own, madePublicOnly: strip.map((k) => k.serial) }, 'sync is on: the zone keeps no user-token signing key of its own');
}

function issuingRefusal(mode: SyncMode, appliedVersion: number): string {
  if (mode === 'private' && appliedVersion === 0) {
    return 'this zone has not received user-token signing keys from the global control plane yet; generate user tokens on the global control plane';
  }
  return `this zone syncs user-token keys from the global control plane in ${mode} mode and holds no private key; user tokens are issued on the global control plane`;
}

function readCa(file: string): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw configError(`cannot read multizone.zone.globalCaFile: ${(error as Error).message}`);
  }
}
