/**
 * The store seam: what a plane keeps durably, as interfaces. Two implementations sit behind it
 * (`sqlite-store.ts`, the embedded default; `postgres-store.ts`, for replicas sharing one
 * database) and one contract suite tests both. Nothing above this folder writes SQL or imports an
 * implementation: `open-store.ts` picks one from the configuration.
 *
 * Memory is never fed from a write directly. Every write that changes keys or revocations
 * records its changes in the change log under the next version, and every process (a replica's
 * own writes included) applies the log to memory (`replication/change-feed.ts`).
 */

export interface SigningKeyRow {
  family: string;
  serial: number;
  publicPem: string;
  privatePem: string | null;
  createdAt: number;
  origin: 'local' | 'synced';
}

/** A revocation as a zone mirrors it. */
export interface RevokedJti {
  jti: string;
  expiresAt: number | null;
}

export interface RevocationRow {
  family: string;
  jti: string;
  revokedAt: number;
  expiresAt: number | null;
}

export interface SecretRow {
  mesh: string;
  name: string;
  data: Buffer;
  updatedAt: number;
}

/**
 * One changed item. `family`/`reload` says "reload this family from its tables" (a zone applying
 * a snapshot of any size writes one such row, not one per item).
 */
export interface ChangeRow {
  /** Orders rows inside a version and across versions. */
  seq: number;
  version: number;
  family: string;
  entity: 'key' | 'revocation' | 'family';
  /** The serial of a key, the jti of a revocation, '' for a family. */
  ref: string;
  op: 'put' | 'delete' | 'reload';
  /** A revocation put: the revoked token's exp (ms), so applying it needs no second read. */
  expiresAt: number | null;
}

export type NewChange = Omit<ChangeRow, 'seq' | 'version'>;

/** A committed version: its random id names one history of the store (see migrations). */
export interface VersionInfo {
  version: number;
  id: string;
  committedAt: number;
}

/** A version this process committed, with the rows it wrote to the log under it. */
export interface CommittedVersion extends VersionInfo {
  changes: readonly NewChange[];
}

/**
 * What a hint to read the change log knows. `committed`: this process's own commit, with what it
 * wrote (memory applies it without reading it back, when it is the next version memory lacks).
 * `version`: a commit announced this version (a notification, from any replica, this one
 * included). Neither: the log may have grown by anything (a reconnect after which notifications
 * may have been missed).
 */
export interface ChangeHint {
  committed?: CommittedVersion;
  version?: number;
}

/** A zone's row in global's zone-status table (Kuma's ZoneInsight): shared by every replica. */
export interface ZoneStatusRow {
  zone: string;
  /** The replica holding the zone's stream now, or that last held it. */
  globalInstance: string;
  connected: boolean;
  mode: string;
  ackedVersion: number;
  lastSyncLatencyMs: number | null;
  lastAckAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  softwareVersion: string;
}

/** A plane process writing to the store: replicas are seen alive by `lastSeenAt`. */
export interface InstanceRow {
  instance: string;
  plane: string;
  startedAt: number;
  lastSeenAt: number;
}

/**
 * A token this plane issued (never the token itself): who it names and who asked for it. The
 * subject columns a kind does not use are '' (a zone token has no name, a user token no mesh).
 */
export interface IssuedTokenRow {
  family: string;
  jti: string;
  kind: 'user' | 'zone' | 'dataplane';
  /** A user's `Name`, a dataplane's `Name`. */
  name: string;
  /** A user's `Groups` (empty for other kinds). */
  groups: string[];
  /** A zone token's `Zone`. */
  zone: string;
  /** A dataplane token's `Mesh`. */
  mesh: string;
  issuedAt: number;
  expiresAt: number;
  /** Who asked for it, as the audit log names actors. */
  issuedBy: string;
  /** The replica that signed it. */
  instance: string;
}

/** Which issued-token records to list: `name` and `group` both apply when both are given. */
export interface IssuedTokenQuery {
  family: string;
  name?: string;
  group?: string;
  /** Only records whose token is still unexpired at this time (ms). */
  unexpiredAt?: number;
  limit: number;
}

/** One admin action, appended to the audit log. */
export interface AuditRow {
  /** Orders entries; the paging cursor. */
  seq: number;
  at: number;
  actor: string;
  actorGroups: string[];
  action: string;
  target: string;
  result: string;
  plane: string;
  instance: string;
  requestId: string;
}

export type NewAuditRow = Omit<AuditRow, 'seq'>;

/** Which audit entries to list, newest first; `before` is a cursor (an entry's seq). */
export interface AuditQuery {
  actor?: string;
  action?: string;
  since?: number;
  before?: number;
  limit: number;
}

/** Reads. Outside a transaction they see committed state only. */
export interface StoreReads {
  getMeta(key: string): Promise<string | undefined>;

  listKeys(family: string): Promise<SigningKeyRow[]>;
  getKey(family: string, serial: number): Promise<SigningKeyRow | undefined>;
  /** Families with at least one key, whose id starts with `prefix`. */
  keyFamilies(prefix: string): Promise<string[]>;

  /**
   * Every revocation of `family` in jti order, as a snapshot carries it (jti and expiry), handed
   * over in pages so a million never sit in one array.
   */
  forEachRevocationPage(family: string, page: (rows: RevokedJti[]) => void | Promise<void>): Promise<void>;
  /** The same, jtis only, in jti order: what memory loads (a fraction of the rows' cost to read). */
  forEachRevokedJtiPage(family: string, page: (jtis: string[]) => void | Promise<void>): Promise<void>;
  getRevocation(family: string, jti: string): Promise<RevocationRow | undefined>;
  countRevocations(family: string): Promise<number>;
  /** The newest revocations first (by revokedAt, then jti), at most `limit`: what the status page lists. */
  recentRevocations(family: string, limit: number): Promise<RevocationRow[]>;
  /** Revocations of tokens that have expired anyway: they would fail on exp. */
  expiredRevocations(family: string, now: number, limit: number): Promise<string[]>;

  getSecret(mesh: string, name: string): Promise<SecretRow | undefined>;
  listSecrets(mesh: string): Promise<SecretRow[]>;

  /** The newest committed version; 0 for a store that never changed. */
  version(): Promise<number>;
  /** Oldest version a delta can start from: changes after it are all still in the log. */
  changeLogFloor(): Promise<number>;
  versionInfo(version: number): Promise<VersionInfo | undefined>;
  /** Versions after `version` up to and including `through`, oldest first. */
  versionsBetween(version: number, through: number): Promise<VersionInfo[]>;
  /** Change rows after `(version, seq)` in log order, at most `limit`. */
  changesAfter(version: number, seq: number, limit: number): Promise<ChangeRow[]>;
  countChangesSince(version: number): Promise<number>;

  /** Newest issued first. */
  listIssuedTokens(query: IssuedTokenQuery): Promise<IssuedTokenRow[]>;
  /** Newest first. */
  listAudit(query: AuditQuery): Promise<AuditRow[]>;
}

/** A transaction: reads see its own writes. Holds the store's write lock until it ends. */
export interface StoreTx extends StoreReads {
  setMeta(key: string, value: string): Promise<void>;
  /** Several meta keys in one statement (a zone records where it stands with every batch). */
  setMetas(entries: readonly (readonly [key: string, value: string])[]): Promise<void>;
  deleteMeta(key: string): Promise<void>;

  putKey(row: SigningKeyRow): Promise<void>;
  deleteKeys(family: string, serials: number[]): Promise<number[]>;
  deleteAllKeys(family: string): Promise<void>;

  /** Returns the jtis that were not revoked before. */
  addRevocations(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<string[]>;
  /** The same, returning only how many were not revoked before (a bulk write past logging each one). */
  addRevocationsCounting(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<number>;
  /**
   * The same, for canonical UUID jtis given packed (16 bytes each), all revoked at `revokedAt`
   * without expiry (a bulk import): a million reach the store without a JavaScript string or
   * object per jti.
   */
  addPackedRevocationsCounting(family: string, jtis: Uint8Array, revokedAt: number): Promise<number>;
  /** Returns the jtis that were revoked before. */
  deleteRevocations(family: string, jtis: string[]): Promise<string[]>;
  deleteAllRevocations(family: string): Promise<void>;
  /** Every revoked jti of the family (a replace computes its difference inside the transaction). */
  revokedJtis(family: string): Promise<Set<string>>;

  /** A zone receiving a batch chunk by chunk: revocations wait here until the batch applies. */
  clearStagedRevocations(): Promise<void>;
  stageRevocations(rows: { jti: string; op: 'put' | 'delete'; expiresAt: number | null }[]): Promise<void>;
  /**
   * The same as `stageRevocations` of puts without expiry for canonical UUID jtis given packed
   * (16 bytes each, as a snapshot's chunk carries them): a million of them reach the store
   * without a JavaScript string or object per jti.
   */
  stagePackedPuts(jtis: Uint8Array): Promise<void>;
  /**
   * Moves the staged revocations into `family`, in SQL (no row passes through JavaScript): a jti
   * staged more than once ends revoked or not as its last operation says. A put of a jti the
   * family already holds keeps the record there.
   */
  mergeStagedRevocations(family: string, revokedAt: number): Promise<void>;

  /** Returns true when created, false when replaced. */
  putSecret(row: SecretRow): Promise<boolean>;
  deleteSecret(mesh: string, name: string): Promise<boolean>;

  /**
   * Records changes under the next version (with a new random id) and returns it. Versions
   * become visible in order: the transaction holds the write lock, so no later version commits
   * before this one. At most once per transaction.
   */
  recordChanges(changes: NewChange[], committedAt: number): Promise<number>;
  /** Keeps at most `keep` change rows, dropping whole versions from the oldest. */
  pruneChangeLog(keep: number): Promise<void>;

  recordIssuedToken(row: IssuedTokenRow): Promise<void>;
  /** Drops at most `limit` records of tokens expired before `now`; returns how many went. */
  pruneIssuedTokens(now: number, limit: number): Promise<number>;
  /** Returns the entry's seq. */
  appendAudit(row: NewAuditRow): Promise<number>;
  /** Drops at most `limit` entries older than `before`; returns how many went. */
  pruneAudit(before: number, limit: number): Promise<number>;
}

/** A lock held through the store by one process at a time (leader election). */
export interface StoreLease {
  /** True while this process holds it. */
  readonly held: boolean;
  /** Called with true when it is won and false when it is lost. */
  onChange(listener: (held: boolean) => void): () => void;
  release(): Promise<void>;
}

export interface Store {
  readonly type: 'sqlite' | 'postgres';
  /** Where it is, for messages: a file path or `postgres://host:port/db` (never a password). */
  readonly location: string;
  /** Identifies this store's history: a new store (or a restored other one) has a new epoch. */
  readonly epoch: string;
  /** Reads outside any transaction: committed state only. */
  readonly read: StoreReads;

  /**
   * Runs `fn` in one transaction that holds the store's write lock: writes are serialized, so a
   * reader that has seen version N never later sees a change below N appear. Failures become a
   * 503 naming the store; nothing of a failed transaction is kept.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;

  /**
   * Runs `fn` while holding the named lock across processes (first-start bootstrap: the keys and
   * the admin token are created once however many replicas start together).
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;

  /** Competes for the named lease; the returned handle says whether this process holds it. */
  lease(name: string, owner: string): StoreLease;

  /**
   * `listener` is called whenever the change log may have grown (a commit here, or on another
   * replica, or a reconnect after which notifications may have been missed): a hint to read the
   * log, and for a commit made through this handle, what it wrote (see ChangeHint).
   */
  onChangeHint(listener: (hint: ChangeHint) => void): () => void;

  upsertZoneStatus(rows: ZoneStatusRow[]): Promise<void>;
  listZoneStatus(): Promise<ZoneStatusRow[]>;
  /** This process is alive (every few seconds); returns the instances seen since `since`. */
  heartbeatInstance(row: InstanceRow, since: number): Promise<InstanceRow[]>;

  close(): Promise<void>;
}
