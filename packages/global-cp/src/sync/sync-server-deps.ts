import type { Clock, Hello__Output, Logger, SyncMode, TokenVerifier, ZoneClaims } from '@meshauth/core';
import type { ZoneRegistry } from './zone-registry.js';
import type { ZoneSession } from './zone-session.js';

/** What a zone session needs from the sync server that owns it. */
export interface SyncServerDeps {
  /** What Welcome carries: the store's epoch and the version this replica has applied. */
  welcome(): { epoch: string; version: number };
  verifier: TokenVerifier<ZoneClaims>;
  /** The most global allows (multizone.global.syncUserTokenKeys). */
  allowed: SyncMode;
  registry: ZoneRegistry;
  logger: Logger;
  clock: Clock;
  /** Hello accepted: the server records it (and drops an older stream of the same zone). */
  register(session: ZoneSession, hello: Hello__Output): void;
  unregister(session: ZoneSession): void;
  /** Sends the snapshot or delta that brings the zone from what it applied to now, then makes it live. */
  initialSync(session: ZoneSession, hello: Hello__Output): void;
}
