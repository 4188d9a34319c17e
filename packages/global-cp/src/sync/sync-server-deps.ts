import type { Clock, Hello__Output, Logger, SqliteStore, SyncMode } from '@meshauth/core';
import type { ZoneRegistry } from './zone-registry.js';
import type { ZoneSession } from './zone-session.js';

/** What a zone session needs from the sync server that owns it. */
export interface SyncServerDeps {
  store: SqliteStore;
  /** The most global allows (multizone.global.syncUserTokenKeys). */
  allowed: SyncMode;
  registry: ZoneRegistry;
  logger: Logger;
  clock: Clock;
  /** Hello accepted: the server records it (and drops an older stream of the same zone). */
  register(session: ZoneSession, hello: Hello__Output): void;
  unregister(session: ZoneSession): void;
  /** From the stream's first moment to its end: the session's zone token is re-checked on the owner's sweep. */
  watchCredential(session: ZoneSession): () => void;
  /** Sends the snapshot or delta that brings the zone from what it applied to now. */
  initialSync(session: ZoneSession, hello: Hello__Output): void;
}
