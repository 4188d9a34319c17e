import { registerGauge, type ApiApp, type PlaneContext, type StoreLease } from '@meshauth/core';
import type { SyncClient } from './sync-client.js';

/**
 * GET /sync/status: this zone's view of its sync with global (`disabled` when it does not sync).
 * Every replica answers: the leader with its stream's state, the others `standby`, with the
 * position the leader recorded in the store.
 */
export function registerSyncStatusRoute(app: ApiApp, ctx: PlaneContext, client: SyncClient | undefined, lease: StoreLease): void {
  app.get('/sync/status', async (request) => {
    ctx.access.requireAuthenticated(request.identity, 'read the sync status');
    const replica = { leader: lease.held, instance: ctx.instance, downPolicy: ctx.config.multizone.zone.downPolicy };
    if (!client) return { zone: ctx.zoneName, state: 'disabled', mode: 'off', globalAddress: ctx.config.multizone.zone.globalAddress || null, ...replica };
    const status = client.status();
    return { ...status, ...replica, state: lease.held ? status.state : 'standby' };
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
