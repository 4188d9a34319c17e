import { exactly, isoTimeOrNull, json, problems, registerGauge, type ApiApp, type PlaneContext, type StoreLease } from '@meshauth/core';
import type { SyncClient } from './sync-client.js';

const mode = { enum: ['off', 'public', 'private'] } as const;
const replica = {
  leader: { type: 'boolean', description: 'This replica holds the sync stream' },
  instance: { type: 'string' },
  downPolicy: { type: 'string', description: 'keep, or deny-after:<duration>' },
};

/** Sync off: what the zone would dial, and who answered. */
const disabled = exactly({ zone: { type: 'string' }, state: { const: 'disabled' }, mode: { const: 'off' }, globalAddress: { type: ['string', 'null'] }, ...replica });

const syncing = exactly({
  globalAddress: { type: 'string', description: 'The global replica connected to (or dialed next)' },
  globalAddresses: { type: 'array', items: { type: 'string' } },
  zone: { type: 'string' },
  mode,
  effectiveMode: { enum: ['off', 'public', 'private', null] },
  state: { enum: ['connecting', 'connected', 'backoff', 'stopped', 'standby'], description: 'standby: another replica holds the stream' },
  globalEpoch: { type: 'string' },
  appliedVersion: { type: 'integer', minimum: 0 },
  appliedVersionId: { type: 'string' },
  globalVersion: { type: ['integer', 'null'] },
  lastSyncAt: isoTimeOrNull,
  lastContactAt: isoTimeOrNull,
  lastError: { type: ['string', 'null'] },
  reconnects: { type: 'integer', minimum: 0 },
  stats: exactly({ snapshots: { type: 'integer', minimum: 0 }, deltas: { type: 'integer', minimum: 0 }, nacks: { type: 'integer', minimum: 0 } }),
  ...replica,
});

const statusSchema = {
  summary: "This zone's sync with global (zone)",
  response: { 200: json('Sync status', { oneOf: [disabled, syncing] }), ...problems(403, 503) },
};

/**
 * GET /sync/status: this zone's view of its sync with global (`disabled` when it does not sync).
 * Every replica answers: the leader with its stream's state, the others `standby`, with the
 * position the leader recorded in the store.
 */
export function registerSyncStatusRoute(app: ApiApp, ctx: PlaneContext, client: SyncClient | undefined, lease: StoreLease): void {
  app.get('/sync/status', { schema: statusSchema }, async (request) => {
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
