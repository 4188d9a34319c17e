import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { MeshAuthError } from '../errors.js';
import { migrate } from './migrations.js';

export interface SigningKeyRow {
  family: string;
  serial: number;
  publicPem: string;
  privatePem: string | null;
  createdAt: number;
  origin: 'local' | 'synced';
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

export interface ChangeRow {
  version: number;
  entity: 'key' | 'revocation';
  ref: string;
  op: 'put' | 'delete';
}

/**
 * The one SQLite file a plane keeps its state in (WAL, mode 0600). Every method is a single
 * statement; callers group writes with `transaction` so each API change commits as one.
 */
export class SqliteStore {
  readonly db: Database;
  readonly path: string;
  /** Compiled once: a 200,000-revocation sync runs the same insert 200,000 times. */
  private readonly statements = new Map<string, Statement>();

  /** Reused: `db.transaction(fn)` builds four wrapper functions on every call (~8 µs a write). */
  private readonly runImmediate: <T>(fn: () => T) => T;

  private constructor(db: Database, path: string) {
    this.db = db;
    this.path = path;
    this.runImmediate = db.transaction((fn: () => unknown) => fn()).immediate as <T>(fn: () => T) => T;
  }

  /** Opens (creating if needed) the store; a file it cannot open or write is a one-line 503 naming why. */
  static open(path: string): SqliteStore {
    let db: Database | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const isNew = path === ':memory:' || !existsSync(path);
      db = new BetterSqlite3(path);
      return SqliteStore.prepare(db, path, isNew);
    } catch (error) {
      db?.close();
      throw openError(path, error);
    }
  }

  private static prepare(db: Database, path: string, isNew: boolean): SqliteStore {
    db.pragma('journal_mode = WAL');
    // FULL: a write the API acknowledged survives a power cut or SIGKILL, not just a crash.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    if (path !== ':memory:') {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
    }
    const store = new SqliteStore(db, path);
    if (isNew || store.getMeta('epoch') === undefined) store.setMeta('epoch', randomUUID());
    return store;
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs fn in one transaction; SQLite write failures become a clear 503. */
  transaction<T>(fn: () => T): T {
    try {
      return this.runImmediate(fn);
    } catch (error) {
      throw storeError(error);
    }
  }

  // --- meta ---------------------------------------------------------------------------------
  getMeta(key: string): string | undefined {
    const row = this.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  deleteMeta(key: string): void {
    this.statement('DELETE FROM meta WHERE key = ?').run(key);
  }

  /** Identifies this store's history: a new file (or a restored other one) has a new epoch. */
  get epoch(): string {
    return this.getMeta('epoch')!;
  }

  // --- signing keys -------------------------------------------------------------------------
  listKeys(family: string): SigningKeyRow[] {
    return (
      this.db
        .prepare('SELECT family, serial, public_pem, private_pem, created_at, origin FROM signing_keys WHERE family = ? ORDER BY serial')
        .all(family) as Record<string, unknown>[]
    ).map(toKeyRow);
  }

  getKey(family: string, serial: number): SigningKeyRow | undefined {
    const row = this.db
      .prepare('SELECT family, serial, public_pem, private_pem, created_at, origin FROM signing_keys WHERE family = ? AND serial = ?')
      .get(family, serial) as Record<string, unknown> | undefined;
    return row ? toKeyRow(row) : undefined;
  }

  putKey(row: SigningKeyRow): void {
    this.db
      .prepare(
        `INSERT INTO signing_keys (family, serial, public_pem, private_pem, created_at, origin) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (family, serial) DO UPDATE SET public_pem = excluded.public_pem, private_pem = excluded.private_pem,
           created_at = excluded.created_at, origin = excluded.origin`,
      )
      .run(row.family, row.serial, row.publicPem, row.privatePem, row.createdAt, row.origin);
  }

  deleteKey(family: string, serial: number): boolean {
    return this.db.prepare('DELETE FROM signing_keys WHERE family = ? AND serial = ?').run(family, serial).changes > 0;
  }

  deleteAllKeys(family: string): void {
    this.db.prepare('DELETE FROM signing_keys WHERE family = ?').run(family);
  }

  keyFamilies(prefix: string): string[] {
    return (this.db.prepare('SELECT DISTINCT family FROM signing_keys WHERE family LIKE ?').all(`${prefix}%`) as { family: string }[]).map(
      (r) => r.family,
    );
  }

  // --- revocations --------------------------------------------------------------------------
  *iterateRevocations(family: string): IterableIterator<RevocationRow> {
    const rows = this.db
      .prepare('SELECT jti, revoked_at, expires_at FROM revocations WHERE family = ?')
      .raw()
      .iterate(family) as IterableIterator<[string, number, number | null]>;
    for (const [jti, revokedAt, expiresAt] of rows) yield { family, jti, revokedAt, expiresAt };
  }

  getRevocation(family: string, jti: string): RevocationRow | undefined {
    const row = this.statement('SELECT revoked_at, expires_at FROM revocations WHERE family = ? AND jti = ?').get(family, jti) as
      | { revoked_at: number; expires_at: number | null }
      | undefined;
    return row ? { family, jti, revokedAt: row.revoked_at, expiresAt: row.expires_at } : undefined;
  }

  /** Returns false when the jti was already revoked. */
  addRevocation(row: RevocationRow): boolean {
    return (
      this.statement('INSERT INTO revocations (family, jti, revoked_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(row.family, row.jti, row.revokedAt, row.expiresAt).changes > 0
    );
  }

  deleteRevocation(family: string, jti: string): boolean {
    return this.statement('DELETE FROM revocations WHERE family = ? AND jti = ?').run(family, jti).changes > 0;
  }

  deleteAllRevocations(family: string): void {
    this.db.prepare('DELETE FROM revocations WHERE family = ?').run(family);
  }

  countRevocations(family: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM revocations WHERE family = ?').get(family) as { n: number }).n;
  }

  /** Revocations of tokens that have expired anyway; returns the jtis dropped. */
  expiredRevocations(family: string, now: number, limit: number): string[] {
    return (
      this.db
        .prepare('SELECT jti FROM revocations WHERE family = ? AND expires_at IS NOT NULL AND expires_at < ? LIMIT ?')
        .pluck()
        .all(family, now, limit) as string[]
    );
  }

  // --- staged revocations (a zone receiving a batch) -----------------------------------------
  clearStagedRevocations(): void {
    this.statement('DELETE FROM staged_revocations').run();
  }

  /** Call inside `transaction`; a jti staged twice keeps its last operation. */
  stageRevocations(rows: { jti: string; op: 'put' | 'delete'; expiresAt: number | null }[]): void {
    const stage = this.statement('INSERT OR REPLACE INTO staged_revocations (jti, op, expires_at) VALUES (?, ?, ?)');
    for (const row of rows) stage.run(row.jti, row.op, row.expiresAt);
  }

  *iterateStagedRevocations(): IterableIterator<{ jti: string; op: 'put' | 'delete' }> {
    const rows = this.db.prepare('SELECT jti, op FROM staged_revocations').raw().iterate() as IterableIterator<[string, 'put' | 'delete']>;
    for (const [jti, op] of rows) yield { jti, op };
  }

  /** Moves the staged revocations into `family`, in SQL (no row passes through JavaScript). Call inside `transaction`. */
  mergeStagedRevocations(family: string, revokedAt: number): void {
    this.statement("DELETE FROM revocations WHERE family = ? AND jti IN (SELECT jti FROM staged_revocations WHERE op = 'delete')").run(family);
    this.statement(
      "INSERT INTO revocations (family, jti, revoked_at, expires_at) SELECT ?, jti, ?, expires_at FROM staged_revocations WHERE op = 'put' ON CONFLICT DO NOTHING",
    ).run(family, revokedAt);
  }

  // --- secrets ------------------------------------------------------------------------------
  getSecret(mesh: string, name: string): SecretRow | undefined {
    const row = this.db.prepare('SELECT data, updated_at FROM secrets WHERE mesh = ? AND name = ?').get(mesh, name) as
      | { data: Buffer; updated_at: number }
      | undefined;
    return row ? { mesh, name, data: row.data, updatedAt: row.updated_at } : undefined;
  }

  listSecrets(mesh: string): SecretRow[] {
    return (
      this.db.prepare('SELECT name, data, updated_at FROM secrets WHERE mesh = ? ORDER BY name').all(mesh) as {
        name: string;
        data: Buffer;
        updated_at: number;
      }[]
    ).map((r) => ({ mesh, name: r.name, data: r.data, updatedAt: r.updated_at }));
  }

  /** Returns true when the secret was created, false when replaced. */
  putSecret(row: SecretRow): boolean {
    const existed = this.getSecret(row.mesh, row.name) !== undefined;
    this.db
      .prepare(
        'INSERT INTO secrets (mesh, name, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (mesh, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
      )
      .run(row.mesh, row.name, row.data, row.updatedAt);
    return !existed;
  }

  deleteSecret(mesh: string, name: string): boolean {
    return this.db.prepare('DELETE FROM secrets WHERE mesh = ? AND name = ?').run(mesh, name).changes > 0;
  }

  // --- change log ---------------------------------------------------------------------------
  /** The version of the newest change; 0 for a store that never changed. */
  get version(): number {
    return Number(this.getMeta('version') ?? '0');
  }

  /** Oldest version a delta can start from: changes after it are all still in the log. */
  get changeLogFloor(): number {
    return Number(this.getMeta('changeLogFloor') ?? '0');
  }

  /** Records changes under the next version, with a new random id for it. Call inside `transaction`. */
  recordChanges(changes: Omit<ChangeRow, 'version'>[]): number {
    const version = this.version + 1;
    const insert = this.statement('INSERT INTO change_log (version, entity, ref, op) VALUES (?, ?, ?, ?)');
    for (const c of changes) insert.run(version, c.entity, c.ref, c.op);
    // Random, not derived from the changes: two histories that reuse this number never share its id.
    this.statement('INSERT INTO version_ids (version, id) VALUES (?, ?)').run(version, randomBytes(8).toString('hex'));
    this.setMeta('version', String(version));
    return version;
  }

  /**
   * The random id `version` got when it was committed: with the epoch it names one history of
   * this store. Undefined when not known: version 0, below the change-log floor, or committed
   * before ids existed.
   */
  versionId(version: number): string | undefined {
    return this.statement('SELECT id FROM version_ids WHERE version = ?').pluck().get(version) as string | undefined;
  }

  changesSince(version: number): ChangeRow[] {
    return this.db
      .prepare('SELECT version, entity, ref, op FROM change_log WHERE version > ? ORDER BY seq')
      .all(version) as ChangeRow[];
  }

  countChangesSince(version: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM change_log WHERE version > ?').get(version) as { n: number }).n;
  }

  /** Keeps at most `keep` rows, dropping whole versions from the oldest. Call inside `transaction`. */
  pruneChangeLog(keep: number): void {
    const total = (this.db.prepare('SELECT count(*) AS n FROM change_log').get() as { n: number }).n;
    if (total <= keep) return;
    const cutoff = this.db.prepare('SELECT version FROM change_log ORDER BY seq DESC LIMIT 1 OFFSET ?').pluck().get(keep) as number;
    this.db.prepare('DELETE FROM change_log WHERE version <= ?').run(cutoff);
    // The floor's own id stays: a zone standing exactly at the floor still takes a delta.
    this.db.prepare('DELETE FROM version_ids WHERE version < ?').run(cutoff);
    this.setMeta('changeLogFloor', String(cutoff));
  }
}

function toKeyRow(row: Record<string, unknown>): SigningKeyRow {
  return {
    family: row.family as string,
    serial: row.serial as number,
    publicPem: row.public_pem as string,
    privatePem: (row.private_pem as string | null) ?? null,
    createdAt: row.created_at as number,
    origin: row.origin as 'local' | 'synced',
  };
}

/** Why a store cannot be opened, in words an operator can act on. */
function openError(path: string, error: unknown): unknown {
  if (error instanceof MeshAuthError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (!code.startsWith('SQLITE_') && !code.startsWith('E')) return error;
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  const why =
    code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || !writable(dirname(path)) || (existsSync(path) && !writable(path))
      ? 'the file or its directory is read-only'
    : code.startsWith('SQLITE_FULL') || code === 'ENOSPC' ? 'the disk is full'
    : code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT') ? 'the file is not a meshauth store or is corrupt'
    : (error as Error).message;
  return new MeshAuthError('ERR_STORE_UNAVAILABLE', `cannot open the store ${path}: ${why}`, { cause: error });
}

/** Disk full, read-only file, locked database: name it, never pretend the write happened. */
export function storeError(error: unknown): unknown {
  if (error instanceof MeshAuthError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_')) {
    const why =
      code.startsWith('SQLITE_READONLY') ? 'the store file is read-only'
      : code.startsWith('SQLITE_FULL') ? 'the disk is full'
      : code.startsWith('SQLITE_BUSY') ? 'the store is busy'
      : `SQLite error ${code}`;
    return new MeshAuthError('ERR_STORE_UNAVAILABLE', `cannot write to the store: ${why}; nothing was changed`, { cause: error });
  }
  return error;
}
