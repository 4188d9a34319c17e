import { registerGauge, type ApiApp, type PlaneContext } from '@meshauth/core';
import type { SyncClient } from './sync-client.js';

/** GET /sync/status: this zone's view of its sync with global (`disabled` when it does not sync). */
export function registerSyncStatusRoute(app: ApiApp, ctx: PlaneContext, client: SyncClient | undefined): void {
  app.get('/sync/status', async (request) => {
    ctx.access.requireAuthenticated(request.identity, 'read the sync status');
    if (!client) return { zone: ctx.zoneName, state: 'disabled', mode: 'off', globalAddress: ctx.config.multizone.zone.globalAddress || null };
    return client.status();
  });
}

export function registerSyncMetrics(ctx: PlaneContext, client: SyncClient): void {
  registerGauge(ctx.metrics, 'meshauth_sync_connected', '1 while the sync stream to global is established', [], () => [[{}, client.status().state === 'connected' ? 1 : 0]]);
  registerGauge(ctx.metrics, 'meshauth_sync_applied_version', 'Last global version this zone applied', [], () => [[{}, client.state.appliedVersion]]);
  registerGauge(ctx.metrics, 'meshauth_sync_seconds_since_contact', 'Seconds since global was last heard from (-1: never)', [], () => {
    const last = client.state.lastContactAt;
    return [[{}, last === undefined ? -1 : (ctx.clock.now() - last) / 1000]];
  });
}
