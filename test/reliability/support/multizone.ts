import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '../../support/daemon.js';
import type { Plane } from './plane-fixture.js';
import { jsonRequest, rawRequest } from './raw-http.js';
import { waitFor } from '../../support/wait-for.js';
import { readStore } from './store-snapshot.js';

export interface Zone {
  daemon: Daemon;
  name: string;
  storePath: string;
  tokenFile: string;
  env: Record<string, string>;
}

/** A zone token (scope cp unless told) written to a file in the global's temp dir. */
export async function writeZoneToken(global: Plane, zone: string, scope: string[] = ['cp']): Promise<string> {
  const res = await jsonRequest('POST', `${global.url}/tokens/zone`, { zone, scope, validFor: '24h' }, global.adminToken);
  if (res.status !== 200) throw new Error(`zone token: ${res.status} ${res.text}`);
  const file = join(global.dir.path, `${zone}-${scope.join('-')}-${Math.random().toString(36).slice(2)}.token`);
  writeFileSync(file, res.text, { mode: 0o600 });
  return file;
}

/**
 * A zone syncing from global (through `syncPort`, which may be a proxy), store in the global's temp
 * dir. Heartbeats every 300 ms so a stall is detected in about a second; backoff kept short.
 */
export async function startZone(
  global: Plane,
  options: { name: string; syncPort: number; mode?: 'public' | 'private'; tokenFile?: string; storePath?: string; env?: Record<string, string> },
): Promise<Zone> {
  const tokenFile = options.tokenFile ?? (await writeZoneToken(global, options.name));
  const storePath = options.storePath ?? join(global.dir.path, `${options.name}.db`);
  const env = {
    MESHAUTH_STORE_SQLITE_PATH: storePath,
    MESHAUTH_MULTIZONE_ZONE_NAME: options.name,
    MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: `grpc://127.0.0.1:${options.syncPort}`,
    MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
    MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: options.mode ?? 'public',
    MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '300ms',
    MESHAUTH_MULTIZONE_ZONE_RECONNECT_MIN_BACKOFF: '50ms',
    MESHAUTH_MULTIZONE_ZONE_RECONNECT_MAX_BACKOFF: '500ms',
    ...options.env,
  };
  const daemon = await startDaemon('zone-cp', env);
  return { daemon, name: options.name, storePath, tokenFile, env };
}

export async function syncStatus(zoneUrl: string): Promise<any> {
  const res = await rawRequest(`${zoneUrl}/sync/status`);
  if (res.status !== 200) throw new Error(`sync status: ${res.status} ${res.text}`);
  return res.json;
}

/** Global's current change version (the number zones ack), read from its store file. */
export function globalVersion(global: { storePath: string }): number {
  return Number(readStore(global.storePath).version ?? '0');
}

/** Waits until the zone is connected and has applied at least global's current version. */
export async function waitForZoneCaughtUp(global: { storePath: string }, zoneUrl: string, timeoutMs = 60_000): Promise<any> {
  const target = globalVersion(global);
  let last: any;
  await waitFor(
    `zone at ${zoneUrl} to apply version ${target}`,
    async () => {
      last = await syncStatus(zoneUrl).catch(() => undefined);
      return last?.state === 'connected' && last.appliedVersion >= target;
    },
    timeoutMs,
  );
  return last;
}
