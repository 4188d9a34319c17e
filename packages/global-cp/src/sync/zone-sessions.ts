import { status } from '@grpc/grpc-js';
import {
  EncodedGlobalMessage,
  encodeBatch,
  type AuditLog,
  releaseGarbage,
  fromProtoMode,
  type AppliedVersion,
  type Batch,
  type BatchHeader,
  type BatchKind,
  type ChangeFeed,
  type Clock,
  type Hello__Output,
  type Logger,
  type Store,
  type SyncMode,
} from '@meshauth/core';
import { CredentialSweep } from './credential-sweep.js';
import { OutgoingBatch } from './outgoing-batch.js';
import { changeContent, changesSince, deltaContent, encodeSnapshot, reloadsFamily, snapshotReason } from './sync-batches.js';
import type { ZoneRegistry } from './zone-registry.js';
import type { ZoneSession, ZoneSessionOwner } from './zone-session.js';

/** A chunk as the stream carries it, serialized once for every zone it goes to. */
const encodeChunk = (batch: Batch): EncodedGlobalMessage => EncodedGlobalMessage.of({ batch });

/** How long an encoded snapshot is kept for other zones once built. */
const SNAPSHOT_CACHE_MS = 30_000;
/** How often the sweep looks for a reason to re-check every open stream's zone token: a revocation ends its stream well within 1 s. */
const CREDENTIAL_SWEEP_MS = 250;

export interface ZoneSessionsOptions {
  store: Store;
  /** This replica's reader of the change log: what it applied is what zones are sent. */
  feed: ChangeFeed;
  /** The family zones mirror (user tokens). */
  familyId: string;
  /** Items the synced state holds now (from memory: no table count on every Hello). */
  stateSize: () => number;
  allowed: SyncMode;
  registry: ZoneRegistry;
  logger: Logger;
  clock: Clock;
  /** Where accepted and refused streams are recorded. */
  audit: AuditLog;
}

/**
 * The zones connected to this replica: at most one stream per zone name (a newer one replaces an
 * older), each brought up to date when it says Hello and then sent every version this replica's
 * change feed applies — its own writes and every other replica's alike.
 */
export class ZoneSessions implements ZoneSessionOwner {
  readonly allowed: SyncMode;
  readonly logger: Logger;
  private readonly registry: ZoneRegistry;
  private readonly clock: Clock;
  private readonly store: Store;
  private readonly feed: ChangeFeed;
  private readonly familyId: string;
  private readonly stateSize: () => number;
  private readonly sessions = new Map<string, ZoneSession>();
  /** Sessions reading the log to catch up: a fan-out skips them, and they look again when done. */
  private readonly catchingUp = new Set<ZoneSession>();
  /**
   * The last snapshot encoded, per mode: zones reconnecting together (after a global restart or a
   * partition) share one encoding of the whole state instead of each building its own.
   */
  private readonly snapshots = new Map<SyncMode, { version: number; batch: OutgoingBatch }>();
  private snapshotExpiry: NodeJS.Timeout | undefined;
  private readonly credentials: CredentialSweep;
  private readonly auditLog: AuditLog;

  constructor(options: ZoneSessionsOptions) {
    this.auditLog = options.audit;
    ({ store: this.store, feed: this.feed, familyId: this.familyId, stateSize: this.stateSize, allowed: this.allowed, registry: this.registry, logger: this.logger, clock: this.clock } = options);
    // Memory (the zone-token family's included) changes only by applying the log: a tick whose version did not move has nothing new to find.
    this.credentials = new CredentialSweep(CREDENTIAL_SWEEP_MS, () => this.feed.version);
  }

  /** What Welcome tells a zone: the store's epoch and the version this replica has applied. */
  welcome(): { epoch: string; version: number } {
    return { epoch: this.store.epoch, version: this.feed.version };
  }

  now(): number {
    return this.clock.now();
  }

  audit(zone: string, action: 'sync.accept' | 'sync.refuse', result: string): Promise<void> {
    return this.auditLog.append({ actor: { name: `zone ${zone}`, groups: [] }, action, target: `sync stream of zone ${zone}`, result, requestId: '' });
  }

  acked(zone: string, version: number): void {
    this.registry.acked(zone, version);
  }

  failed(zone: string, reason: string): void {
    this.registry.failed(zone, reason);
  }

  register(session: ZoneSession, hello: Hello__Output): void {
    const previous = this.sessions.get(session.zone);
    this.sessions.set(session.zone, session);
    this.registry.connected(session.zone, session, session.mode, hello.appliedVersion, hello.softwareVersion);
    previous?.end(status.ABORTED, 'replaced by a newer stream of the same zone');
  }

  unregister(session: ZoneSession): void {
    if (this.sessions.get(session.zone) === session) this.sessions.delete(session.zone);
    this.catchingUp.delete(session);
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
   * Brings a zone from what it applied to the store's current version, then makes it live. Fan-outs
   * meanwhile skip it (it is not live); once live, anything applied since is sent as a delta.
   */
  initialSync(session: ZoneSession, hello: Hello__Output): void {
    this.catchingUp.add(session);
    this.bringUp(session, hello).catch((error: unknown) => {
      this.logger.error({ err: error, zone: session.zone }, 'sync: could not bring a zone up to date');
      session.end(status.UNAVAILABLE, `global could not read its store: ${(error as Error).message}`);
    });
  }

  private async bringUp(session: ZoneSession, hello: Hello__Output): Promise<void> {
    // Read before the content: content read after it may be newer (harmless, changes are
    // idempotent on the zone), never older.
    const version = await this.store.read.version();
    const position = {
      epoch: hello.epoch,
      appliedVersion: hello.appliedVersion,
      appliedVersionId: hello.appliedVersionId,
      appliedModeMatches: fromProtoMode(hello.appliedMode) === session.mode,
    };
    const reason = await snapshotReason(this.store, version, position, this.stateSize);
    if (reason) {
      this.logger.info({ zone: session.zone, reason, zoneVersion: hello.appliedVersion, version }, 'sync: sending snapshot');
      session.send(this.snapshot(session.mode, version), version);
    } else if (hello.appliedVersion < version) {
      await this.sendDelta(session, hello.appliedVersion, version);
      this.logger.info({ zone: session.zone, from: hello.appliedVersion, to: version }, 'sync: sent delta');
    } else {
      session.sentVersion = version;
    }
    session.live = true;
    await this.catchUp(session);
  }

  /** After a Nack: a snapshot of now, whatever the zone said it holds, then whatever follows. */
  resync(session: ZoneSession): void {
    this.catchingUp.add(session);
    const recover = async () => {
      const version = await this.store.read.version();
      this.logger.info({ zone: session.zone, reason: 'zone nacked a batch', version }, 'sync: sending snapshot');
      session.sendRecoverySnapshot(this.snapshot(session.mode, version), version);
      await this.catchUp(session);
    };
    recover().catch((error: unknown) => {
      this.catchingUp.delete(session);
      this.logger.error({ err: error, zone: session.zone }, 'sync: could not resync a zone after its Nack');
      session.end(status.UNAVAILABLE, `global could not read its store: ${(error as Error).message}`);
    });
  }

  /** Sends a session whatever this replica applied beyond what it was sent, until there is nothing more. */
  private async catchUp(session: ZoneSession): Promise<void> {
    this.catchingUp.add(session);
    try {
      while (this.sessions.get(session.zone) === session && !session.resyncing && this.feed.version > session.sentVersion) {
        await this.sendDelta(session, session.sentVersion, this.feed.version);
      }
    } finally {
      this.catchingUp.delete(session);
    }
  }

  /** One applied version to every live zone, encoded once per mode however many zones there are. */
  fanOut(applied: AppliedVersion): void {
    this.snapshots.clear();
    this.registry.committed(applied.version, applied.committedAt);
    if (applied.reloadedAll) {
      // Memory was rebuilt from the tables: the log no longer says what changed, a fresh sync does.
      for (const session of this.sessions.values()) session.end(status.UNAVAILABLE, 'global replica reloaded its state; reconnect for a fresh sync');
      return;
    }
    // A bulk write logged as one reload row: zones get it as a snapshot, by the catch-up path.
    const reloaded = applied.changes.get(this.familyId)?.reloaded === true;
    const encoded = new Map<SyncMode, OutgoingBatch>();
    const batchesFor = (mode: SyncMode) => {
      let batch = encoded.get(mode);
      if (!batch) {
        const header = this.header('delta', applied.version - 1, applied.version, applied.id);
        batch = OutgoingBatch.of(encodeBatch(header, changeContent(applied.changes.get(this.familyId)), mode).map(encodeChunk));
        encoded.set(mode, batch);
      }
      return batch;
    };
    for (const session of this.sessions.values()) {
      if (!session.live || session.mode === 'off' || this.catchingUp.has(session) || session.sentVersion >= applied.version) continue;
      // Contiguous: the change alone. Otherwise whatever the log says it missed.
      if (session.sentVersion === applied.version - 1 && !reloaded) session.send(batchesFor(session.mode), applied.version);
      else void this.catchUp(session).catch((error: unknown) => session.end(status.UNAVAILABLE, `global could not read its store: ${(error as Error).message}`));
    }
  }

  /**
   * The snapshot of `version` in `mode`, shared by every zone that asks for it: encoded page by
   * page as the store is read, each stream writing its chunks as they come. A stream whose
   * snapshot cannot be read ends UNAVAILABLE, and the next zone to ask starts a new one.
   */
  private snapshot(mode: SyncMode, version: number): OutgoingBatch {
    const cached = this.snapshots.get(mode);
    if (cached?.version === version && cached.batch.error === undefined) return cached.batch;
    const batch = new OutgoingBatch();
    const encode = async () => {
      // The count in memory, said on the first chunk: the zone sizes its set for it once.
      const header = { ...(await this.headerFromStore('snapshot', 0, version)), revocationsTotal: this.stateSize() };
      const rest = await encodeSnapshot(this.store, this.familyId, header, mode, (chunks) => batch.push(chunks.map(encodeChunk)));
      batch.finish(rest.map(encodeChunk));
      this.logger.info({ version, mode, chunks: batch.chunks.length }, 'sync: encoded snapshot');
      // A snapshot of many chunks (a million revocations) leaves their strings and messages behind.
      if (batch.chunks.length > 1) releaseGarbage();
    };
    encode().catch((error: unknown) => {
      if (this.snapshots.get(mode)?.batch === batch) this.snapshots.delete(mode);
      this.logger.error({ err: error, mode, version }, 'sync: could not read the snapshot from the store');
      batch.fail(error as Error);
    });
    this.snapshots.set(mode, { version, batch });
    // Kept only while zones are likely to be reconnecting: a large state is not held for nothing.
    clearTimeout(this.snapshotExpiry);
    this.snapshotExpiry = setTimeout(() => {
      const held = [...this.snapshots.values()];
      this.snapshots.clear();
      // The encoded chunks of a large snapshot (16 MB for a million revocations) are freed now;
      // one still being encoded is freed by its own end.
      if (held.some((s) => s.batch.complete && s.batch.chunks.length > 1)) releaseGarbage();
    }, SNAPSHOT_CACHE_MS);
    this.snapshotExpiry.unref();
    return batch;
  }

  closeAll(reason: string): void {
    clearTimeout(this.snapshotExpiry);
    this.snapshots.clear();
    for (const session of this.sessions.values()) session.end(status.UNAVAILABLE, reason);
    this.credentials.stop();
  }

  private async sendDelta(session: ZoneSession, from: number, to: number): Promise<void> {
    const changes = await changesSince(this.store, this.familyId, from);
    if (reloadsFamily(changes)) {
      const version = await this.store.read.version();
      session.send(this.snapshot(session.mode, version), version);
      this.logger.info({ zone: session.zone, from, version }, 'sync: sent a snapshot (a bulk write replaced the revocations)');
      return;
    }
    const content = await deltaContent(this.store, this.familyId, changes);
    session.send(OutgoingBatch.of(encodeBatch(await this.headerFromStore('delta', from, to), content, session.mode).map(encodeChunk)), to);
  }

  private async headerFromStore(kind: BatchKind, fromVersion: number, toVersion: number): Promise<BatchHeader> {
    return this.header(kind, fromVersion, toVersion, (await this.store.read.versionInfo(toVersion))?.id ?? '');
  }

  /** Every batch names the version it brings a zone to by number and id: the zone's next Hello says both. */
  private header(kind: BatchKind, fromVersion: number, toVersion: number, toVersionId: string): BatchHeader {
    return { kind, epoch: this.store.epoch, fromVersion, toVersion, toVersionId, committedAt: this.clock.now() };
  }
}
