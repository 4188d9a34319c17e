import type { ChangeRow, SigningKeyRow, VersionInfo, ZoneStatusRow } from './store.js';

/** The SQL both stores share, and their rows as both return them (snake_case columns; PostgreSQL BIGINTs as strings). */
export const ZONE_STATUS_COLUMNS = 'zone, global_instance, connected, mode, acked_version, last_sync_latency_ms, last_ack_at, last_error, last_error_at, connected_at, disconnected_at, software_version';

/** The newest stream wins: a replica that lost the zone to another one cannot overwrite its row. */
export const ZONE_STATUS_ON_CONFLICT = `ON CONFLICT (zone) DO UPDATE SET global_instance = excluded.global_instance, connected = excluded.connected,
  mode = excluded.mode, acked_version = excluded.acked_version, last_sync_latency_ms = excluded.last_sync_latency_ms,
  last_ack_at = excluded.last_ack_at, last_error = excluded.last_error, last_error_at = excluded.last_error_at,
  connected_at = excluded.connected_at, disconnected_at = excluded.disconnected_at, software_version = excluded.software_version
  WHERE coalesce(excluded.connected_at, 0) >= coalesce(zone_status.connected_at, 0)`;

export const KEY_COLUMNS = 'SELECT family, serial, public_pem, private_pem, created_at, origin FROM signing_keys';

export function toKeyRow(row: Record<string, unknown>): SigningKeyRow {
  return {
    family: row.family as string,
    serial: Number(row.serial),
    publicPem: row.public_pem as string,
    privatePem: (row.private_pem as string | null) ?? null,
    createdAt: Number(row.created_at),
    origin: row.origin as 'local' | 'synced',
  };
}

export function toVersionInfo(row: Record<string, unknown>): VersionInfo {
  return { version: Number(row.version), id: row.id as string, committedAt: Number(row.committed_at) };
}

export function toChangeRow(row: Record<string, unknown>): ChangeRow {
  return {
    seq: Number(row.seq),
    version: Number(row.version),
    family: row.family as string,
    entity: row.entity as ChangeRow['entity'],
    ref: row.ref as string,
    op: row.op as ChangeRow['op'],
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
  };
}

export function toZoneStatusRow(r: Record<string, unknown>): ZoneStatusRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    zone: r.zone as string,
    globalInstance: r.global_instance as string,
    connected: Boolean(r.connected),
    mode: r.mode as string,
    ackedVersion: Number(r.acked_version),
    lastSyncLatencyMs: num(r.last_sync_latency_ms),
    lastAckAt: num(r.last_ack_at),
    lastError: (r.last_error as string | null) ?? null,
    lastErrorAt: num(r.last_error_at),
    connectedAt: num(r.connected_at),
    disconnectedAt: num(r.disconnected_at),
    softwareVersion: r.software_version as string,
  };
}
