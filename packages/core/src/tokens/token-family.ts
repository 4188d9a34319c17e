import { EventEmitter } from 'node:events';
import { MeshAuthError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { NewChange, Store, StoreReads, StoreTx } from '../store/store.js';
import { releaseGarbage } from '../memory/release-garbage.js';
import { KeyRing } from './key-ring.js';
import { RevocationSet } from './revocation-set.js';
import { readUuids } from './uuid-jti.js';
import { highestSerialKey, readRemovedSerials, recordRemovedSerials, recordSerialUsed } from './serial-history.js';
import { BULK_SLICE_ROWS, yieldToLoop } from '../yield-to-loop.js';
import { generateRsaPrivateKeyPem, importSigningKey, parseKeyPem, type SigningKey } from './signing-key.js';

/** Names a family of tokens: which keys sign it, where its secrets appear, how it is described. */
export interface TokenFamilyName {
  /** Store key: `user-token`, `zone-token`, `dataplane-token/<mesh>`. */
  id: string;
  /** For messages: "user token". */
  label: string;
  /** Secret name of key N: `user-token-signing-key-${N}`. */
  keySecretPrefix: string;
  /** Secret holding the comma-separated revoked jtis. */
  revocationsSecret: string;
  /** Mesh the secrets live in; '' for global secrets. */
  mesh: string;
}

/** What one committed version changed in a family's memory (from the change log). */
export interface FamilyChange {
  version: number;
  keysPut: SigningKey[];
  keysDeleted: number[];
  revocationsAdded: { jti: string; expiresAt: number | null }[];
  revocationsDeleted: string[];
  /** The family was reloaded whole from its tables (a zone applied a snapshot). */
  reloaded: boolean;
}

export const emptyFamilyChange = (version: number): FamilyChange => ({ version, keysPut: [], keysDeleted: [], revocationsAdded: [], revocationsDeleted: [], reloaded: false });

/** A batch from global, checked, for a zone to apply to its mirror of the family. */
export interface SyncedBatch {
  /** A snapshot: everything the family holds is replaced. */
  replace: boolean;
  keysPut: SigningKey[];
  keysDeleted: number[];
  revocationsAdded: { jti: string; expiresAt: number | null }[];
  revocationsDeleted: string[];
  /** Revocations staged in the store chunk by chunk, moved in SQL. */
  staged: boolean;
  /** A staged snapshot's revocations, as they will be held (see `ReceivedBatch`). */
  revocationsAfter?: RevocationSet | undefined;
}

/** More writes for the same transaction as a family's own (the audit entry of the action). */
export type AlsoInTransaction = (tx: StoreTx) => Promise<void>;

/** How a family reaches the store, and waits until its memory shows a committed version. */
export interface FamilyStorage {
  store: Store;
  clock: Clock;
  untilApplied(version: number): Promise<void>;
}

/**
 * One family's signing keys and revocations: persisted in the store, held in memory for
 * verification. A write is one transaction that records what it changed in the change log; the
 * memory follows the log (`ChangeFeed`), here and on every other replica alike, and a write
 * returns once this process's memory shows it.
 */
export class TokenFamily {
  readonly name: TokenFamilyName;
  readonly keys = new KeyRing();
  readonly revocations = new RevocationSet();
  private readonly events = new EventEmitter();
  /**
   * The revocations a bulk replace left in the store, as its transaction built them, for the reload
   * row its version logs: this replica's memory takes them instead of reading a million rows back.
   * Writes are serialized (SQLite has one writer, every PostgreSQL write transaction takes the
   * write lock first), so the set is exactly what the table holds at that version.
   */
  private builtForReload: { version: number; revocations: RevocationSet } | undefined;
  /** When set, API writes are refused with this reason (a zone mirroring global). Synced batches bypass it. */
  managedBy: string | undefined;

  constructor(
    name: TokenFamilyName,
    private readonly storage: FamilyStorage,
  ) {
    this.name = name;
  }

  /** The store the family persists in (bootstrap takes its cross-replica lock there). */
  get store(): Store {
    return this.storage.store;
  }

  /**
   * Replaces memory with what the store holds; what is built is swapped in at once. `version`: the
   * version whose reload row this is (the change feed's), when the revocations may be this
   * replica's own bulk write's.
   */
  async load(read: StoreReads, version?: number): Promise<void> {
    const keys = (await read.listKeys(this.name.id)).map(importSigningKey);
    const removed = await readRemovedSerials(read, this.name.id);
    let revocations = this.takeBuiltForReload(version);
    if (revocations === undefined) {
      revocations = new RevocationSet();
      await read.forEachRevokedJtiPage(this.name.id, async (jtis) => {
        for (const jti of jtis) revocations!.add(jti);
        // A million revocations load in slices: requests are answered (from the old set) meanwhile.
        await yieldToLoop();
      });
      // The strings they were read as are garbage now: a million of them, freed at once.
      if (revocations.size > BULK_CHANGE_ROWS) releaseGarbage();
    }
    this.keys.replaceAll(keys);
    this.keys.rememberRemoved(removed);
    this.revocations.adopt(revocations);
  }

  /**
   * The set a bulk write built for the reload of `version`, if any. One for an older version is
   * forgotten, and so is any when the whole store is read (`version` undefined: memory fell behind
   * the log), so a million-entry set is never kept for nothing.
   */
  private takeBuiltForReload(version: number | undefined): RevocationSet | undefined {
    const built = this.builtForReload;
    if (built === undefined || (version !== undefined && built.version > version)) return undefined;
    this.builtForReload = undefined;
    return built.version === version ? built.revocations : undefined;
  }

  /** Resolves once memory shows everything committed so far (by any replica). */
  async caughtUp(): Promise<void> {
    await this.storage.untilApplied(await this.storage.store.read.version());
  }

  /** Memory changed (from the change log: this replica's writes and every other's). */
  onChange(listener: (change: FamilyChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  /** Called by the change feed once a version's changes are in memory. */
  changed(change: FamilyChange): void {
    this.events.emit('change', change);
  }

  private guard(): void {
    if (this.managedBy) throw new MeshAuthError('ERR_CONFLICT', `${this.name.label} keys and revocations are ${this.managedBy}`);
  }

  // --- keys ---------------------------------------------------------------------------------
  /**
   * Generates a key with the next serial; returns it. The serial is chosen inside the write
   * transaction, so two replicas never issue the same one; "next" counts keys already deleted too:
   * a new key reusing a removed serial would make that key's old tokens fail as "bad signature"
   * instead of "rotated out".
   */
  async generateKey(also?: (tx: StoreTx, serial: number) => Promise<void>): Promise<SigningKey> {
    this.guard();
    const privatePem = await generateRsaPrivateKeyPem();
    const { publicPem } = parseKeyPem(privatePem);
    let serial = 0;
    await this.commit(async (tx) => {
      const serials = (await tx.listKeys(this.name.id)).map((k) => k.serial);
      serial = Math.max(Number((await tx.getMeta(highestSerialKey(this.name.id))) ?? '0'), ...serials) + 1;
      await this.putKeyRow(tx, serial, publicPem, privatePem);
      await also?.(tx, serial);
      return [keyChange(this.name.id, serial, 'put')];
    });
    return this.keyInMemory(serial);
  }

  /** Stores a key given as PEM (private or public) under `serial`, replacing one with that serial. */
  async putKeyPem(serial: number, pem: string, also?: AlsoInTransaction): Promise<SigningKey> {
    this.guard();
    const { publicPem, privatePem } = parseKeyPem(pem);
    await this.commit(async (tx) => {
      await this.putKeyRow(tx, serial, publicPem, privatePem ?? null);
      await also?.(tx);
      return [keyChange(this.name.id, serial, 'put')];
    });
    return this.keyInMemory(serial);
  }

  async deleteKey(serial: number, also?: AlsoInTransaction): Promise<boolean> {
    this.guard();
    let deleted = false;
    await this.commit(async (tx) => {
      deleted = (await tx.deleteKeys(this.name.id, [serial])).length > 0;
      if (deleted) await recordRemovedSerials(tx, this.name.id, [serial]);
      if (deleted) await also?.(tx);
      return deleted ? [keyChange(this.name.id, serial, 'delete')] : [];
    });
    return deleted;
  }

  private async putKeyRow(tx: StoreTx, serial: number, publicPem: string, privatePem: string | null): Promise<void> {
    await tx.putKey({ family: this.name.id, serial, publicPem, privatePem, createdAt: this.storage.clock.now(), origin: 'local' });
    await recordSerialUsed(tx, this.name.id, serial);
  }

  private keyInMemory(serial: number): SigningKey {
    const key = this.keys.get(serial);
    // Only a concurrent delete on another replica, between our commit and our read of the log.
    if (!key) throw new MeshAuthError('ERR_CONFLICT', `${this.name.label} signing key ${serial} was removed by a concurrent change`);
    return key;
  }

  // --- revocations --------------------------------------------------------------------------
  /** Returns false when already revoked. */
  async revoke(jti: string, expiresAt: number | null = null, also?: AlsoInTransaction): Promise<boolean> {
    return (await this.revokeMany(async () => [{ jti, expiresAt }], also)).length > 0;
  }

  /**
   * Revokes, in one transaction, the tokens `pick` finds there (so a token recorded by another
   * replica a moment ago is among them); returns the jtis not revoked before. Each goes into the
   * change log like any revocation, and so to every replica and, for user tokens, every zone.
   */
  async revokeMany(
    pick: (tx: StoreTx) => Promise<{ jti: string; expiresAt: number | null }[]>,
    also?: (tx: StoreTx, added: string[]) => Promise<void>,
  ): Promise<string[]> {
    this.guard();
    let added: string[] = [];
    await this.commit(async (tx) => {
      const rows = await pick(tx);
      const now = this.storage.clock.now();
      added = await tx.addRevocations(this.name.id, rows.map((r) => ({ ...r, revokedAt: now })));
      await also?.(tx, added);
      const expiry = new Map(rows.map((r) => [r.jti, r.expiresAt]));
      return added.map((jti) => revocationChange(this.name.id, jti, 'put', expiry.get(jti) ?? null));
    });
    return added;
  }

  /**
   * The docs' interface: writing the list replaces the set. The difference is taken inside the
   * transaction, against what the store holds, so a revocation another replica just made is seen.
   * `wanted` (read from the list before the write: `readRevocationList`) is written in key order
   * in slices, the event loop let through between them. A replace changing more than
   * `BULK_CHANGE_ROWS` revocations is logged as one reload row: every replica reloads the family
   * (this one takes `wanted` itself), every zone gets a snapshot. The caller gives `wanted` up.
   */
  async replaceRevocations(wanted: RevocationSet, also?: AlsoInTransaction): Promise<void> {
    this.guard();
    const id = this.name.id;
    let reloadWith: RevocationSet | undefined;
    const write = async (tx: StoreTx): Promise<NewChange[]> => {
      await also?.(tx);
      const now = this.storage.clock.now();
      // Written in key order: each slice lands on the B-tree pages after the last one's, where a
      // million in the order listed (random UUIDs) cost a page read and a page write per row.
      // UUIDs go packed, as the set holds them; only while the changes may still be logged one by
      // one (the first BULK_CHANGE_ROWS) are they read out as strings.
      const added = new ChangeTally();
      const addAll = async (slice: string[]) => {
        const rows = slice.map((jti) => ({ jti, revokedAt: now, expiresAt: null }));
        if (added.logsEach) added.push(await tx.addRevocations(id, rows));
        else added.count += await tx.addRevocationsCounting(id, rows);
        await yieldToLoop();
      };
      for (const packed of await wanted.sortedPackedUuidsInSlices(yieldToLoop, BULK_SLICE_ROWS)) {
        if (added.logsEach) await addAll(readUuids(packed));
        else {
          added.count += await tx.addPackedRevocationsCounting(id, packed, now);
          await yieldToLoop();
        }
      }
      const others = wanted.sortedOthers();
      for (let i = 0; i < others.length; i += BULK_SLICE_ROWS) await addAll(others.slice(i, i + BULK_SLICE_ROWS));
      // The table now holds what was wanted and what was held before: more only when some of what
      // was held is not wanted any more.
      const deleted = new ChangeTally();
      if ((await tx.countRevocations(id)) > wanted.size) {
        const unwanted: string[] = [];
        await tx.forEachRevokedJtiPage(id, async (held) => {
          for (const jti of held) if (!wanted.has(jti)) unwanted.push(jti);
          await yieldToLoop();
        });
        for (let i = 0; i < unwanted.length; i += BULK_SLICE_ROWS) {
          deleted.push(await tx.deleteRevocations(id, unwanted.slice(i, i + BULK_SLICE_ROWS)));
          await yieldToLoop();
        }
      }
      if (added.count + deleted.count > BULK_CHANGE_ROWS) {
        reloadWith = wanted;
        return [reloadChange(id)];
      }
      return [...deleted.jtis.map((jti) => revocationChange(id, jti, 'delete', null)), ...added.jtis.map((jti) => revocationChange(id, jti, 'put', null))];
    };
    await this.commit(write, () => reloadWith);
  }

  /** Drops revocations of tokens that have expired anyway (they would fail on exp). */
  async pruneExpiredRevocations(limit = 10_000): Promise<number> {
    let dropped = 0;
    await this.commit(async (tx) => {
      const expired = await tx.expiredRevocations(this.name.id, this.storage.clock.now(), limit);
      const deleted = await tx.deleteRevocations(this.name.id, expired);
      dropped = deleted.length;
      return deleted.map((jti) => revocationChange(this.name.id, jti, 'delete', null));
    });
    return dropped;
  }

  // --- a zone's mirror of global ------------------------------------------------------------
  /**
   * Applies a batch from global in one transaction together with `alsoInTransaction` (the zone
   * records the version it applied). A snapshot or a staged batch is logged as one "reload" row:
   * the memory then reloads the family, instead of the log holding a row per revocation.
   */
  async applySynced(batch: SyncedBatch, alsoInTransaction: (tx: StoreTx) => Promise<void>): Promise<void> {
    const id = this.name.id;
    const write = async (tx: StoreTx): Promise<NewChange[]> => {
      const now = this.storage.clock.now();
      const held = batch.replace ? (await tx.listKeys(id)).map((k) => k.serial) : [];
      if (batch.replace) {
        await tx.deleteAllKeys(id);
        await tx.deleteAllRevocations(id);
      }
      const keysDeleted = await tx.deleteKeys(id, batch.keysDeleted);
      for (const key of batch.keysPut) {
        await tx.putKey({ family: id, serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? null, createdAt: key.createdAt, origin: 'synced' });
        await recordSerialUsed(tx, id, key.serial);
      }
      const put = new Set(batch.keysPut.map((k) => k.serial));
      await recordRemovedSerials(tx, id, [...held.filter((serial) => !put.has(serial)), ...keysDeleted]);
      const revocationsDeleted = await tx.deleteRevocations(id, batch.revocationsDeleted);
      const revocationsAdded = new Set(await tx.addRevocations(id, batch.revocationsAdded.map((r) => ({ ...r, revokedAt: now }))));
      if (batch.staged) await tx.mergeStagedRevocations(id, now);
      await alsoInTransaction(tx);
      if (batch.replace || batch.staged) return [reloadChange(id)];
      return [
        ...keysDeleted.map((serial) => keyChange(id, serial, 'delete')),
        ...batch.keysPut.map((k) => keyChange(id, k.serial, 'put')),
        ...revocationsDeleted.map((jti) => revocationChange(id, jti, 'delete', null)),
        ...batch.revocationsAdded.filter((r) => revocationsAdded.has(r.jti)).map((r) => revocationChange(id, r.jti, 'put', r.expiresAt)),
      ];
    };
    // A snapshot leaves exactly what was staged (the table is emptied first).
    await this.commit(write, () => (batch.replace && batch.staged ? batch.revocationsAfter : undefined));
    // Emptied in a transaction of its own: in the apply's, dropping a million staged rows ran in
    // the same turn of the event loop as its COMMIT. Rows left by a crash in between are harmless:
    // nothing reads them, and the next batch of several chunks empties the table before staging.
    if (batch.staged) await this.storage.store.transaction((tx) => tx.clearStagedRevocations());
  }

  // --- the one write path -------------------------------------------------------------------
  /**
   * One transaction; its changes go to the log; returns when memory shows them. `reloadWith`: the
   * revocations the write left, when it logged a reload (see `builtForReload`).
   */
  private async commit(write: (tx: StoreTx) => Promise<NewChange[]>, reloadWith?: () => RevocationSet | undefined): Promise<void> {
    const { store, clock } = this.storage;
    let version: number | undefined;
    try {
      version = await store.transaction(async (tx) => {
        const changes = await write(tx);
        if (changes.length === 0) return undefined;
        const recorded = await tx.recordChanges(changes, clock.now());
        // Handed over before the commit: the change feed may read the version the moment it commits.
        const revocations = reloadWith?.();
        if (revocations) this.builtForReload = { version: recorded, revocations };
        return recorded;
      });
    } catch (error) {
      // Not committed: that version number may yet name another write.
      this.builtForReload = undefined;
      throw error;
    }
    if (version !== undefined) await this.storage.untilApplied(version);
    // A bulk write's garbage (a million jtis' strings, the list they came in) is freed now rather
    // than whenever V8 next runs a full collection.
    if (reloadWith?.() !== undefined) releaseGarbage();
  }
}

/** A write changing more revocations than this is logged as one reload row instead of a row each. */
export const BULK_CHANGE_ROWS = 10_000;

/** The jtis a bulk write changed, kept only while they may still be logged one by one. */
class ChangeTally {
  jtis: string[] = [];
  count = 0;

  /** Still few enough to log one by one: past that, only the count matters. */
  get logsEach(): boolean {
    return this.count <= BULK_CHANGE_ROWS;
  }

  push(jtis: string[]): void {
    this.count += jtis.length;
    if (this.count > BULK_CHANGE_ROWS) this.jtis = [];
    else this.jtis.push(...jtis);
  }
}

const reloadChange = (family: string): NewChange => ({ family, entity: 'family', ref: '', op: 'reload', expiresAt: null });
const keyChange = (family: string, serial: number, op: 'put' | 'delete'): NewChange => ({ family, entity: 'key', ref: String(serial), op, expiresAt: null });
const revocationChange = (family: string, jti: string, op: 'put' | 'delete', expiresAt: number | null): NewChange => ({ family, entity: 'revocation', ref: jti, op, expiresAt });
