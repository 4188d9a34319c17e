export { startGlobalControlPlane, globalApiRoutes, type GlobalControlPlane, type StartGlobalOptions } from './global-control-plane.js';
export { startSyncServer, type SyncServer, type SyncServerOptions } from './sync/sync-server.js';
export { ZoneRegistry, type ZoneStatusView } from './sync/zone-registry.js';
