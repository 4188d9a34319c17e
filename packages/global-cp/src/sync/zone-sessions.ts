import { status } from '@grpc/grpc-js';
import {
  encodeBatch,
  fromProtoMode,
  type Batch,
  type BatchHeader,
  type BatchKind,
  type Clock,
  type FamilyChange,
  type Hello__Output,
  type Logger,
  type SqliteStore,
  type SyncMode,
} from '@meshauth/core';
import { CredentialSweep } from './credential-sweep.js';
import { changeContent, deltaContent, snapshotContent, snapshotReason } from './sync-batches.js';
import type { SyncServerDeps } from './sync-server-deps.js';
import type { ZoneRegistry } from './zone-registry.js';
import type { ZoneSession } from './zone-session.js';

/** How long an encoded snapshot is kept for other zones once built. */
const SNAPSHOT_CACHE_MS = 30_000;
/** How often every open stream's zone token is re-checked: a revocation ends its stream well within 1 s. */
const CREDENTIAL_SWEEP_MS = 250;

export interface ZoneSessionsOptions {
  store: SqliteStore;
  /** The family zones mirror (user tokens). */
  familyId: string;
  /** Items the synced state holds now (from memory: no table count on every Hello). */
  stateSize: () => number;
  allowed: SyncMode;
  registry: ZoneRegistry;
  logger: Logger;
  clock: Clock;
}

/**
 * The connected zones: at most one stream per zone name (a newer one replaces an older), each
 * brought up to date when it says Hello and then sent every change as it commits.
 */
export class ZoneSessions implements SyncServerDeps {
  readonly store: SqliteStore;
  readonly allowed: SyncMode;
  readonly registry: ZoneRegistry;
  readonly logger: Logger;
  readonly clock: Clock;
  private readonly familyId: string;
  private readonly stateSize: () => number;
  private readonly sessions = new Map<string, ZoneSession>();
  /**
   * The last snapshot encoded, per mode: zones reconnecting together (after a global restart or a
   * partition) share one encoding of the whole state instead of each building its own.
   */
  private readonly snapshots = new Map<SyncMode, { version: number; batches: Batch[] }>();
  private snapshotExpiry: NodeJS.Timeout | undefined;
  private readonly credentials = new CredentialSweep(CREDENTIAL_SWEEP_MS);

  constructor(options: ZoneSessionsOptions) {
    ({ store: this.store, familyId: this.familyId, stateSize: this.stateSize, allowed: this.allowed, registry: this.registry, logger: this.logger, clock: this.clock } = options);
  }

  register(session: ZoneSession, hello: Hello__Output): void {
    const previous = this.sessions.get(session.zone);
    this.sessions.set(session.zone, session);
    this.registry.connected(session.zone, session, session.mode, hello.appliedVersion, hello.softwareVersion);
    previous?.end(status.ABORTED, 'replaced by a newer stream of the same zone');
  }

  unregister(session: ZoneSession): void {
    if (this.sessions.get(session.zone) === session) this.sessions.delete(session.zone);
    this.registry.disconnected(session.zone, session);
  }

  watchCredential(session: ZoneSession): () => void {
    return this.credentials.watch(session);
  }

  /** This process changed the zone-token family: re-check every stream now, not at the next sweep. */
  recheckCredentials(): void {
    this.credentials.sweep();
  }

  /**
   * Brings a zone from what it applied to now. Runs synchronously, like every family write, so
   * no change can commit between building this batch and the session going live.
   */
  initialSync(session: ZoneSession, hello: Hello__Output): void {
    const { store } = this;
    const version = store.version;
    const reason = snapshotReason(store, {
      epoch: hello.epoch,
      appliedVersion: hello.appliedVersion,
      appliedVersionId: hello.appliedVersionId,
      appliedModeMatches: fromProtoMode(hello.appliedMode) === session.mode,
    }, this.stateSize);
    if (reason) {
      const batches = this.snapshot(session.mode, version);
      this.logger.info({ zone: session.zone, reason, zoneVersion: hello.appliedVersion, version, chunks: batches.length }, 'sync: sending snapshot');
      session.send(batches, version);
    } else if (hello.appliedVersion < version) {
      this.sendDelta(session, hello.appliedVersion);
      this.logger.info({ zone: session.zone, from: hello.appliedVersion, to: version }, 'sync: sent delta');
    } else {
      session.sentVersion = version;
    }
  }

  /** One committed change to every live zone, encoded once per mode however many zones there are. */
  fanOut(change: FamilyChange): void {
    if (change.version === 0) return;
    this.snapshots.clear();
    this.registry.committed(change.version, this.clock.now());
    const encoded = new Map<SyncMode, Batch[]>();
    const batchesFor = (mode: SyncMode) => {
      let batches = encoded.get(mode);
      if (!batches) {
        batches = encodeBatch(this.header('delta', change.version - 1, change.version), changeContent(change), mode);
        encoded.set(mode, batches);
      }
      return batches;
    };
    for (const session of this.sessions.values()) {
      if (!session.live || session.mode === 'off') continue;
      // Contiguous: the change alone. Otherwise (not expected) whatever the log says it missed.
      if (session.sentVersion === change.version - 1) session.send(batchesFor(session.mode), change.version);
      else if (session.sentVersion < change.version) this.sendDelta(session, session.sentVersion);
    }
  }

  private snapshot(mode: SyncMode, version: number): Batch[] {
    const cached = this.snapshots.get(mode);
    if (cached?.version === version) return cached.batches;
    const batches = encodeBatch(this.header('snapshot', 0, version), snapshotContent(this.store, this.familyId), mode);
    this.snapshots.set(mode, { version, batches });
    this.logger.info({ version, mode, chunks: batches.length }, 'sync: encoded snapshot');
    // Kept only while zones are likely to be reconnecting: a large state is not held for nothing.
    clearTimeout(this.snapshotExpiry);
    this.snapshotExpiry = setTimeout(() => this.snapshots.clear(), SNAPSHOT_CACHE_MS);
    this.snapshotExpiry.unref();
    return batches;
  }

  closeAll(reason: string): void {
    clearTimeout(this.snapshotExpiry);
    this.snapshots.clear();
    for (const session of this.sessions.values()) session.end(status.UNAVAILABLE, reason);
    this.credentials.stop();
  }

  private sendDelta(session: ZoneSession, from: number): void {
    const { store } = this;
    const to = store.version;
    const content = deltaContent(store, this.familyId, store.changesSince(from));
    session.send(encodeBatch(this.header('delta', from, to), content, session.mode), to);
  }

  /** Every batch names the version it brings a zone to by number and id: the zone's next Hello says both. */
  private header(kind: BatchKind, fromVersion: number, toVersion: number): BatchHeader {
    const { store } = this;
    return { kind, epoch: store.epoch, fromVersion, toVersion, toVersionId: store.versionId(toVersion) ?? '', committedAt: this.clock.now() };
  }
}
