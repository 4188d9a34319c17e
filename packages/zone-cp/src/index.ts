export { startZoneControlPlane, type ZoneControlPlane, type StartZoneOptions } from './zone-control-plane.js';
export { createSyncClient, type SyncClient, type SyncClientOptions, type SyncStatusView, type SyncState } from './sync/sync-client.js';
export { registerSyncStatusRoute } from './sync/sync-status-route.js';
export { SyncedState } from './sync/synced-state.js';
export { downPolicyRefusal } from './sync/down-policy.js';
export { ReconnectBackoff } from './sync/reconnect-backoff.js';
