import { exactly, isoTime, isoTimeOrNull, json, problems, registerGauge, type ApiApp, type PlaneContext } from '@meshauth/core';
import type { ZoneRegistry } from './zone-registry.js';

const mode = { enum: ['off', 'public', 'private'] } as const;
const nullableText = { type: ['string', 'null'] } as const;

const zoneList = exactly({
  items: {
    type: 'array',
    items: exactly({
      zone: { type: 'string' },
      connected: { type: 'boolean' },
      mode,
      ackedVersion: { type: 'integer', minimum: 0 },
      versionsBehind: { type: 'integer', minimum: 0 },
      lagMs: { type: 'number', minimum: 0, description: 'How long the oldest change the zone has not acked has waited' },
      lastSyncLatencyMs: { type: ['number', 'null'], description: 'Commit-to-ack time of the last acked change' },
      lastAckAt: isoTimeOrNull,
      lastError: nullableText,
      lastErrorAt: isoTimeOrNull,
      connectedAt: isoTimeOrNull,
      disconnectedAt: isoTimeOrNull,
      softwareVersion: { type: 'string' },
      globalInstance: { type: 'string', description: 'The global replica holding (or that last held) its stream' },
    }),
  },
});

const replicaList = exactly({ items: { type: 'array', items: exactly({ instance: { type: 'string' }, startedAt: isoTime, lastSeenAt: isoTime }) } });

/** GET /zones for any authenticated caller, and the same numbers as Prometheus gauges. */
export function registerZonesRoute(app: ApiApp, access: PlaneContext['access'], registry: Pick<ZoneRegistry, 'list' | 'share' | 'replicas'>): void {
  // The global replicas sharing this store, as the status page lists them.
  app.get('/replicas', { schema: { summary: 'The global replicas alive on the store', response: { 200: json('Oldest first', replicaList), ...problems(403, 503) } } }, async (request) => {
    access.requireAuthenticated(request.identity, 'list the global replicas');
    await registry.share();
    return { items: registry.replicas() };
  });

  app.get('/zones', { schema: { summary: 'Every zone once, with its sync status (global)', response: { 200: json('By zone name', zoneList), ...problems(403, 503) } } }, async (request) => {
    access.requireAuthenticated(request.identity, 'list zones');
    // Fresh from the store: a zone that just connected to another replica is listed too.
    await registry.share();
    return { items: registry.list() };
  });
}

export function registerZoneMetrics(ctx: PlaneContext, registry: ZoneRegistry): void {
  const per = (value: (z: ReturnType<ZoneRegistry['list']>[number]) => number) => () =>
    registry.list().map((z): [Record<string, string>, number] => [{ zone: z.zone }, value(z)]);
  registerGauge(ctx.metrics, 'meshauth_sync_version', 'Current version of the synced state on global', [], () => [[{}, ctx.families.feed.version]]);
  registerGauge(ctx.metrics, 'meshauth_sync_zone_connected', '1 when the zone has an open sync stream', ['zone'], per((z) => (z.connected ? 1 : 0)));
  registerGauge(ctx.metrics, 'meshauth_sync_zone_acked_version', 'Last version the zone acked', ['zone'], per((z) => z.ackedVersion));
  registerGauge(ctx.metrics, 'meshauth_sync_zone_versions_behind', 'Versions the zone has not acked yet', ['zone'], per((z) => z.versionsBehind));
  registerGauge(ctx.metrics, 'meshauth_sync_zone_lag_seconds', 'How long the oldest change the zone has not acked has waited', ['zone'], per((z) => z.lagMs / 1000));
}
