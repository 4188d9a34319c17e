import { EventEmitter } from 'node:events';
import { MeshAuthError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { KeyRing } from './key-ring.js';
import { RevocationSet } from './revocation-set.js';
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

/** A change zones may have to hear about: only families with `logChanges` produce them. */
export interface FamilyChange {
  version: number;
  keysPut: SigningKey[];
  keysDeleted: number[];
  revocationsAdded: { jti: string; expiresAt: number | null }[];
  revocationsDeleted: string[];
}

/**
 * One family's signing keys and revocations: persisted in the store, held in memory for
 * verification, and kept the same in both. Every write is one transaction; memory changes only
 * after the commit, so a failed write leaves both untouched.
 */
export class TokenFamily {
  readonly name: TokenFamilyName;
  readonly keys = new KeyRing();
  readonly revocations = new RevocationSet();
  private readonly events = new EventEmitter();
  /** When set, API writes are refused with this reason (a zone mirroring global). Sync writes bypass it. */
  managedBy: string | undefined;

  constructor(
    name: TokenFamilyName,
    private readonly store: SqliteStore,
    private readonly clock: Clock,
    /** Record changes in the store's change log (the family zones mirror). */
    private readonly logChanges = false,
  ) {
    this.name = name;
    this.keys.replaceAll(store.listKeys(name.id).map(importSigningKey));
    this.keys.rememberSerial(Number(store.getMeta(this.highestSerialKey) ?? '0'));
    for (const row of store.iterateRevocations(name.id)) this.revocations.add(row.jti);
  }

  /** Where the highest serial this family ever held is kept, so a removed serial is never reused. */
  private get highestSerialKey(): string {
    return `highestSerial/${this.name.id}`;
  }

  onChange(listener: (change: FamilyChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private guard(): void {
    if (this.managedBy) throw new MeshAuthError('ERR_CONFLICT', `${this.name.label} keys and revocations are ${this.managedBy}`);
  }

  // --- keys ---------------------------------------------------------------------------------
  /**
   * Generates a key with the next serial; returns it. "Next" counts keys already deleted too: a
   * new key reusing a removed serial would make that key's old tokens fail as "bad signature"
   * instead of "rotated out".
   */
  async generateKey(): Promise<SigningKey> {
    this.guard();
    const privatePem = await generateRsaPrivateKeyPem();
    return this.putKeyPem(this.keys.highestSerialEver + 1, privatePem);
  }

  /** Stores a key given as PEM (private or public) under `serial`, replacing one with that serial. */
  putKeyPem(serial: number, pem: string): SigningKey {
    this.guard();
    const { publicPem, privatePem } = parseKeyPem(pem);
    return this.putKeys([importSigningKey({ serial, publicPem, privatePem, createdAt: this.clock.now(), origin: 'local' })], [])[0]!;
  }

  deleteKey(serial: number): boolean {
    this.guard();
    if (!this.keys.get(serial)) return false;
    this.putKeys([], [serial]);
    return true;
  }

  // --- revocations --------------------------------------------------------------------------
  /** Returns false when already revoked. */
  revoke(jti: string, expiresAt: number | null = null): boolean {
    this.guard();
    if (this.revocations.has(jti)) return false;
    this.write({ revocationsAdded: [{ jti, expiresAt }] });
    return true;
  }

  /** The docs' interface: writing the list replaces the set. */
  replaceRevocations(jtis: string[]): void {
    this.guard();
    const wanted = new Set(jtis);
    const added = [...wanted].filter((jti) => !this.revocations.has(jti)).map((jti) => ({ jti, expiresAt: null }));
    const deleted = [...this.revocations.values()].filter((jti) => !wanted.has(jti));
    this.write({ revocationsAdded: added, revocationsDeleted: deleted });
  }

  /** Drops revocations of tokens that have expired anyway (they would fail on exp). */
  pruneExpiredRevocations(limit = 10_000): number {
    const expired = this.store.expiredRevocations(this.name.id, this.clock.now(), limit);
    if (expired.length > 0) this.write({ revocationsDeleted: expired });
    return expired.length;
  }

  // --- the one write path -------------------------------------------------------------------
  private putKeys(put: SigningKey[], deleted: number[]): SigningKey[] {
    this.write({ keysPut: put, keysDeleted: deleted });
    return put;
  }

  /**
   * Applies a change in one transaction, then to memory, then tells listeners. Used by the API
   * paths above and, with `replace`, by a zone applying a snapshot from global.
   */
  write(
    change: Partial<Omit<FamilyChange, 'version'>> & {
      replace?: boolean;
      origin?: 'local' | 'synced';
      /** Runs inside the same transaction (a zone records the global version it applied). */
      alsoInTransaction?: () => void;
      /**
       * Also apply the revocations staged in the store (a zone's batch from global, received chunk
       * by chunk). They are moved in SQL and not listed in the change event.
       */
      stagedRevocations?: boolean;
    },
  ): FamilyChange {
    const full: FamilyChange = {
      version: 0,
      keysPut: change.keysPut ?? [],
      keysDeleted: change.keysDeleted ?? [],
      revocationsAdded: change.revocationsAdded ?? [],
      revocationsDeleted: change.revocationsDeleted ?? [],
    };
    const empty = full.keysPut.length + full.keysDeleted.length + full.revocationsAdded.length + full.revocationsDeleted.length === 0;
    if (empty && !change.replace && !change.stagedRevocations) {
      if (change.alsoInTransaction) this.store.transaction(change.alsoInTransaction);
      return full;
    }
    const id = this.name.id;
    const now = this.clock.now();
    this.store.transaction(() => {
      if (change.replace) {
        this.store.deleteAllKeys(id);
        this.store.deleteAllRevocations(id);
      }
      for (const serial of full.keysDeleted) this.store.deleteKey(id, serial);
      const highestPut = Math.max(0, ...full.keysPut.map((k) => k.serial));
      if (highestPut > this.keys.highestSerialEver) this.store.setMeta(this.highestSerialKey, String(highestPut));
      for (const key of full.keysPut) {
        this.store.putKey({ family: id, serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? null, createdAt: key.createdAt, origin: change.origin ?? key.origin });
      }
      for (const jti of full.revocationsDeleted) this.store.deleteRevocation(id, jti);
      for (const r of full.revocationsAdded) this.store.addRevocation({ family: id, jti: r.jti, revokedAt: now, expiresAt: r.expiresAt });
      if (change.stagedRevocations) this.store.mergeStagedRevocations(id, now);
      // What a zone receives from global is not logged again: only global serves the log.
      if (this.logChanges && change.origin !== 'synced') {
        full.version = this.store.recordChanges([
          ...full.keysDeleted.map((s) => ({ entity: 'key' as const, ref: String(s), op: 'delete' as const })),
          ...full.keysPut.map((k) => ({ entity: 'key' as const, ref: String(k.serial), op: 'put' as const })),
          ...full.revocationsDeleted.map((jti) => ({ entity: 'revocation' as const, ref: jti, op: 'delete' as const })),
          ...full.revocationsAdded.map((r) => ({ entity: 'revocation' as const, ref: r.jti, op: 'put' as const })),
        ]);
      }
      change.alsoInTransaction?.();
    });
    if (change.replace) {
      this.keys.replaceAll([]);
      this.revocations.clear();
    }
    for (const serial of full.keysDeleted) this.keys.delete(serial);
    for (const key of full.keysPut) this.keys.set(change.origin ? { ...key, origin: change.origin } : key);
    for (const jti of full.revocationsDeleted) this.revocations.delete(jti);
    for (const r of full.revocationsAdded) this.revocations.add(r.jti);
    if (change.stagedRevocations) {
      for (const { jti, op } of this.store.iterateStagedRevocations()) {
        if (op === 'put') this.revocations.add(jti);
        else this.revocations.delete(jti);
      }
      try {
        this.store.transaction(() => this.store.clearStagedRevocations());
      } catch {
        // Only frees space: the next batch clears the staging table before it stages anything.
      }
    }
    this.events.emit('change', full);
    return full;
  }
}
