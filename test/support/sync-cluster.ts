import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { syncProto, type GlobalMessage__Output, type ZoneMessage } from '@meshauth/core';
import { startDaemon, type Daemon } from './daemon.js';
import { http, readAdminToken } from './http.js';

export interface Global {
  daemon: Daemon;
  url: string;
  syncPort: number;
  syncAddress: string;
  adminToken: string;
}

export async function startGlobal(storePath: string, env: Record<string, string> = {}): Promise<Global> {
  const daemon = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: storePath, MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false', ...env });
  const syncPort = daemon.ready.syncPort as number;
  return { daemon, url: daemon.url, syncPort, syncAddress: `grpc://127.0.0.1:${syncPort}`, adminToken: await readAdminToken(daemon.url) };
}

/** Issues a zone token on global and writes it where a zone reads it. */
export async function writeZoneToken(global: Global, dir: string, zone: string, scope: string[] = ['cp'], validFor = '1h'): Promise<string> {
  // Localhost admin: works whatever happened to the admin token (a test may rotate its key away).
  const result = await http('POST', `${global.url}/tokens/zone`, { body: { zone, scope, validFor } });
  if (result.status !== 200) throw new Error(`zone token: ${result.status} ${result.text}`);
  const file = join(dir, `${zone}-${scope.join('-')}.token`);
  writeFileSync(file, result.text, { mode: 0o600 });
  return file;
}

export interface ZoneOptions {
  mode?: 'off' | 'public' | 'private';
  globalAddress?: string;
  tokenFile?: string;
  env?: Record<string, string>;
}

/** A zone-cp process with fast heartbeats and backoff so tests see reconnects quickly. */
export async function startZone(name: string, storePath: string, options: ZoneOptions = {}): Promise<Daemon> {
  return startDaemon('zone-cp', {
    MESHAUTH_STORE_SQLITE_PATH: storePath,
    MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
    MESHAUTH_MULTIZONE_ZONE_NAME: name,
    MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: options.mode ?? 'public',
    MESHAUTH_MULTIZONE_ZONE_HEARTBEAT_INTERVAL: '500ms',
    MESHAUTH_MULTIZONE_ZONE_RECONNECT_MIN_BACKOFF: '100ms',
    MESHAUTH_MULTIZONE_ZONE_RECONNECT_MAX_BACKOFF: '1s',
    ...(options.globalAddress ? { MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: options.globalAddress } : {}),
    ...(options.tokenFile ? { MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: options.tokenFile } : {}),
    ...options.env,
  });
}

/** Status of one zone as global's GET /zones reports it. */
export async function zoneOnGlobal(global: Global, zone: string): Promise<Record<string, any> | undefined> {
  const result = await http('GET', `${global.url}/zones`);
  return (result.json?.items as Record<string, any>[] | undefined)?.find((z) => z.zone === zone);
}

export async function syncStatus(zone: Daemon): Promise<Record<string, any>> {
  return (await http('GET', `${zone.url}/sync/status`)).json;
}

/**
 * A hand-driven zone side of the Sync stream: records every message global sends, raw, so a
 * test can inspect exactly what crossed the wire.
 */
export interface ProbeStream {
  received: GlobalMessage__Output[];
  send(message: ZoneMessage): void;
  /** Resolves with the stream's final status (code and details). */
  closed: Promise<{ code: number; details: string }>;
  close(): void;
}

export function openProbe(syncPort: number, token: string | undefined): ProbeStream {
  const client = new (syncProto().GlobalSync)(`127.0.0.1:${syncPort}`, credentials.createInsecure());
  const metadata = new Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const call: ClientDuplexStream<ZoneMessage, GlobalMessage__Output> = client.Sync(metadata);
  const received: GlobalMessage__Output[] = [];
  call.on('data', (m: GlobalMessage__Output) => received.push(m));
  const closed = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details }));
    call.on('status', (s: { code: number; details: string }) => resolve({ code: s.code, details: s.details }));
  });
  return {
    received,
    send: (message) => call.write(message),
    closed,
    close() {
      call.cancel();
      client.close();
    },
  };
}

export function hello(zone: string, mode: 'SYNC_MODE_PUBLIC' | 'SYNC_MODE_PRIVATE' | 'SYNC_MODE_OFF', appliedVersion = 0, epoch = ''): ZoneMessage {
  return { hello: { zone, mode, epoch, appliedVersion, appliedMode: mode, heartbeatIntervalMs: 5_000, softwareVersion: 'probe' } };
}
