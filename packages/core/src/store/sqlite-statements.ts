import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { auditStatement, auditValues, AUDIT_COLUMNS, issuedTokensStatement, issuedTokenValues, ISSUED_TOKEN_COLUMNS, sqliteDialect, toAuditRow, toIssuedTokenRow } from './record-queries.js';
import type {
  AuditQuery,
  AuditRow,
  ChangeRow,
  IssuedTokenQuery,
  IssuedTokenRow,
  NewAuditRow,
  InstanceRow,
  NewChange,
  CommittedVersion,
  RevocationRow,
  RevokedJti,
  SecretRow,
  SigningKeyRow,
  StoreReads,
  StoreTx,
  VersionInfo,
  ZoneStatusRow,
} from './store.js';
import { SliceClock, yieldToLoop } from '../yield-to-loop.js';
import { UUID_BYTES, uuidsAsJsonArray } from '../tokens/uuid-jti.js';
import type { WalFlusher } from './wal-flusher.js';
import { KEY_COLUMNS, toChangeRow, toKeyRow, toVersionInfo, toZoneStatusRow, ZONE_STATUS_COLUMNS, ZONE_STATUS_ON_CONFLICT } from './row-mappers.js';

/** Rows one bulk statement moves before the event loop gets a turn (a few ms of work). */
const SQL_SLICE_ROWS = 1_000;
/** Rows one bulk insert takes, handed to SQLite as one JSON array (a few milliseconds' work). */
const SQL_BULK_ROWS = 2_000;

/** Revocations of one revokedAt without expiry, their jtis one JSON array of strings. */
const PLAIN_REVOCATIONS_INSERT = 'INSERT INTO revocations (family, jti, revoked_at, expires_at) SELECT ?, value, ?, NULL FROM json_each(?) WHERE true ON CONFLICT DO NOTHING';
const STAGE_PLAIN_PUTS = "INSERT INTO staged_revocations (seq, jti, op, expires_at) SELECT ? + key, value, 'put', NULL FROM json_each(?)";
const STAGE_RUN = 'INSERT INTO staged_runs (first_seq, op) VALUES (?, ?)';

/** Characters a JSON string must escape (and lone surrogates, which it escapes too). */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(strings)`, at a fraction of its cost when no string needs escaping (UUIDs never do). */
function jsonStringArray(strings: string[]): string {
  const joined = strings.join('","');
  return NEEDS_JSON_ESCAPE.test(joined) ? JSON.stringify(strings) : `["${joined}"]`;
}

/** Random bytes drawn 256 version ids at a time: one call into the CSPRNG per id cost more than the rest of recording a version. */
const versionIdPool = { bytes: Buffer.alloc(0), next: 0 };
function randomVersionId(): string {
  if (versionIdPool.next >= versionIdPool.bytes.length) {
    versionIdPool.bytes = randomBytes(8 * 256);
    versionIdPool.next = 0;
  }
  const id = versionIdPool.bytes.toString('hex', versionIdPool.next, versionIdPool.next + 8);
  versionIdPool.next += 8;
  return id;
}

/**
 * Up to this many rows, a revocation insert runs once per row: one row took 6 µs that way against 14 µs
 * through json_each (a revocation, and the one-revocation delta a zone applies, is one row).
 */
const ROW_BY_ROW = 4;

/** Revocations counted per statement (a few milliseconds of index reads). */
const COUNT_SLICE_ROWS = 50_000;

/** Revocations are read in pages of this many rows (keyset pagination by jti). */
const PAGE_ROWS = 10_000;

/**
 * A LIMIT written into the SQL. Bound as a parameter (`LIMIT ?`), it made each run of a statement
 * cost 5 to 11 µs more on this SQLite build, against under 1 µs for the whole query with the limit
 * written in: the change-log read a zone runs twice per applied delta took most of that time.
 * Only integer limits are written, so nothing reaches the SQL text but digits; each distinct limit
 * is its own cached statement, so callers pass a few fixed limits (the API's limits stay bound).
 */
function limit(rows: number): string {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`a row limit must be a whole number, got ${rows}`);
  return `LIMIT ${rows}`;
}

/**
 * The SQL of the SQLite store, on one connection. Methods are async to fit the store seam, but
 * each runs its statements synchronously (better-sqlite3): a method never interleaves with another
 * on the same connection.
 */
export class SqliteReads implements StoreReads {
  /** Compiled once: a 200,000-revocation sync runs the same insert 200,000 times. */
  private readonly statements = new Map<string, Statement>();

  constructor(protected readonly db: Database) {}

  protected statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  protected metaSync(key: string): string | undefined {
    return this.statement('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.metaSync(key);
  }

  async listKeys(family: string): Promise<SigningKeyRow[]> {
    return (this.statement(`${KEY_COLUMNS} WHERE family = ? ORDER BY serial`).all(family) as Record<string, unknown>[]).map(toKeyRow);
  }

  async getKey(family: string, serial: number): Promise<SigningKeyRow | undefined> {
    const row = this.statement(`${KEY_COLUMNS} WHERE family = ? AND serial = ?`).get(family, serial) as Record<string, unknown> | undefined;
    return row ? toKeyRow(row) : undefined;
  }

  async keyFamilies(prefix: string): Promise<string[]> {
    return this.statement('SELECT DISTINCT family FROM signing_keys WHERE substr(family, 1, ?) = ?').pluck().all(prefix.length, prefix) as string[];
  }

  async forEachRevocationPage(family: string, page: (rows: RevokedJti[]) => void | Promise<void>): Promise<void> {
    const select = this.statement(`SELECT jti, expires_at FROM revocations WHERE family = ? AND jti > ? ORDER BY jti ${limit(PAGE_ROWS)}`).raw();
    let after = '';
    for (;;) {
      const rows = select.all(family, after) as [string, number | null][];
      if (rows.length === 0) return;
      await page(rows.map(([jti, expiresAt]) => ({ jti, expiresAt })));
      if (rows.length < PAGE_ROWS) return;
      after = rows[rows.length - 1]![0];
    }
  }

  async forEachRevokedJtiPage(family: string, page: (jtis: string[]) => void | Promise<void>): Promise<void> {
    const select = this.statement(`SELECT jti FROM revocations WHERE family = ? AND jti > ? ORDER BY jti ${limit(PAGE_ROWS)}`).pluck();
    let after = '';
    for (;;) {
      const jtis = select.all(family, after) as string[];
      if (jtis.length === 0) return;
      await page(jtis);
      if (jtis.length < PAGE_ROWS) return;
      after = jtis[jtis.length - 1]!;
    }
  }

  async getRevocation(family: string, jti: string): Promise<RevocationRow | undefined> {
    const row = this.statement('SELECT revoked_at, expires_at FROM revocations WHERE family = ? AND jti = ?').get(family, jti) as
      | { revoked_at: number; expires_at: number | null }
      | undefined;
    return row ? { family, jti, revokedAt: row.revoked_at, expiresAt: row.expires_at } : undefined;
  }

  async countRevocations(family: string): Promise<number> {
    // Range by range of keys, the event loop let through between them: one count(*) over a
    // million rows held it for 70 ms. Inside a transaction (a replace counting what it left) the
    // ranges see one state; outside, a commit between two ranges may or may not be counted.
    const range = this.statement(`SELECT count(*), max(jti) FROM (SELECT jti FROM revocations WHERE family = ? AND jti > ? ORDER BY jti ${limit(COUNT_SLICE_ROWS)})`).raw();
    let total = 0;
    for (let after = ''; ; ) {
      const [rows, last] = range.get(family, after) as [number, string | null];
      total += rows;
      if (rows < COUNT_SLICE_ROWS) return total;
      after = last!;
      await yieldToLoop();
    }
  }

  async recentRevocations(family: string, limit: number): Promise<RevocationRow[]> {
    const rows = this.statement('SELECT jti, revoked_at, expires_at FROM revocations WHERE family = ? ORDER BY revoked_at DESC, jti DESC LIMIT ?').all(family, limit) as Record<string, unknown>[];
    return rows.map((r) => ({ family, jti: r.jti as string, revokedAt: r.revoked_at as number, expiresAt: (r.expires_at as number | null) ?? null }));
  }

  async expiredRevocations(family: string, now: number, limit: number): Promise<string[]> {
    return this.statement('SELECT jti FROM revocations WHERE family = ? AND expires_at IS NOT NULL AND expires_at < ? LIMIT ?').pluck().all(family, now, limit) as string[];
  }

  async getSecret(mesh: string, name: string): Promise<SecretRow | undefined> {
    const row = this.statement('SELECT data, updated_at FROM secrets WHERE mesh = ? AND name = ?').get(mesh, name) as { data: Buffer; updated_at: number } | undefined;
    return row ? { mesh, name, data: row.data, updatedAt: row.updated_at } : undefined;
  }

  async listSecrets(mesh: string): Promise<SecretRow[]> {
    const rows = this.statement('SELECT name, data, updated_at FROM secrets WHERE mesh = ? ORDER BY name').all(mesh) as { name: string; data: Buffer; updated_at: number }[];
    return rows.map((r) => ({ mesh, name: r.name, data: r.data, updatedAt: r.updated_at }));
  }

  async version(): Promise<number> {
    return Number(this.metaSync('version') ?? '0');
  }

  async changeLogFloor(): Promise<number> {
    return Number(this.metaSync('changeLogFloor') ?? '0');
  }

  async versionInfo(version: number): Promise<VersionInfo | undefined> {
    const row = this.statement('SELECT version, id, committed_at FROM version_ids WHERE version = ?').get(version) as Record<string, unknown> | undefined;
    return row ? toVersionInfo(row) : undefined;
  }

  async versionsBetween(version: number, through: number): Promise<VersionInfo[]> {
    return (this.statement('SELECT version, id, committed_at FROM version_ids WHERE version > ? AND version <= ? ORDER BY version').all(version, through) as Record<string, unknown>[]).map(toVersionInfo);
  }

  async changesAfter(version: number, seq: number, rows: number): Promise<ChangeRow[]> {
    const found = this.statement(
      // A row value, as on PostgreSQL: a range search of the (version, seq) index, where the OR form scanned it whole.
      `SELECT seq, version, family, entity, ref, op, expires_at FROM change_log WHERE (version, seq) > (?, ?) ORDER BY version, seq ${limit(rows)}`,
    ).all(version, seq) as Record<string, unknown>[];
    return found.map(toChangeRow);
  }

  async countChangesSince(version: number): Promise<number> {
    return this.statement('SELECT count(*) FROM change_log WHERE version > ?').pluck().get(version) as number;
  }

  async listIssuedTokens(query: IssuedTokenQuery): Promise<IssuedTokenRow[]> {
    const { sql, params } = issuedTokensStatement(sqliteDialect, query);
    return (this.statement(sql).all(...params) as Record<string, unknown>[]).map(toIssuedTokenRow);
  }

  async listAudit(query: AuditQuery): Promise<AuditRow[]> {
    const { sql, params } = auditStatement(sqliteDialect, query);
    return (this.statement(sql).all(...params) as Record<string, unknown>[]).map(toAuditRow);
  }

  listZoneStatus(): ZoneStatusRow[] {
    return (this.statement('SELECT * FROM zone_status ORDER BY zone').all() as Record<string, unknown>[]).map(toZoneStatusRow);
  }

  instancesSeenSince(since: number): InstanceRow[] {
    return (this.statement('SELECT instance, plane, started_at, last_seen_at FROM instances WHERE last_seen_at >= ? ORDER BY instance').all(since) as Record<string, unknown>[]).map(
      (r) => ({ instance: r.instance as string, plane: r.plane as string, startedAt: r.started_at as number, lastSeenAt: r.last_seen_at as number }),
    );
  }
}

/** The writer connection: a transaction's statements (the store opens and ends the transaction). */
export class SqliteWrites extends SqliteReads implements StoreTx {
  /** The version the transaction under way recorded, handed to memory once it commits. */
  recorded: CommittedVersion | undefined;

  /** `walFlusher`: syncs the log along a bulk write (none for an in-memory database). */
  constructor(
    db: Database,
    private readonly walFlusher?: WalFlusher,
  ) {
    super(db);
  }

  /** Between two slices of a bulk write: the log is synced in the background, the event loop runs. */
  private async betweenSlices(): Promise<void> {
    this.walFlusher?.kick();
    await yieldToLoop();
  }

  epochOrCreate(fresh: string): string {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run('epoch', fresh);
    return this.metaSync('epoch')!;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.statement('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async setMetas(entries: readonly (readonly [key: string, value: string])[]): Promise<void> {
    if (entries.length === 0) return;
    // One statement per count of keys (callers pass a fixed set); a later duplicate key wins, as row by row.
    const tuples = Array.from(entries, () => '(?, ?)').join(', ');
    this.statement(`INSERT INTO meta (key, value) VALUES ${tuples} ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(entries.flat());
  }

  async deleteMeta(key: string): Promise<void> {
    this.statement('DELETE FROM meta WHERE key = ?').run(key);
  }

  async putKey(row: SigningKeyRow): Promise<void> {
    this.statement(
      `INSERT INTO signing_keys (family, serial, public_pem, private_pem, created_at, origin) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (family, serial) DO UPDATE SET public_pem = excluded.public_pem, private_pem = excluded.private_pem,
         created_at = excluded.created_at, origin = excluded.origin`,
    ).run(row.family, row.serial, row.publicPem, row.privatePem, row.createdAt, row.origin);
  }

  async deleteKeys(family: string, serials: number[]): Promise<number[]> {
    // Nothing to prepare for nothing: most batches a zone applies delete no key and no revocation.
    if (serials.length === 0) return [];
    const remove = this.statement('DELETE FROM signing_keys WHERE family = ? AND serial = ?');
    return serials.filter((serial) => remove.run(family, serial).changes > 0);
  }

  async deleteAllKeys(family: string): Promise<void> {
    this.statement('DELETE FROM signing_keys WHERE family = ?').run(family);
  }

  async addRevocations(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const added: string[] = [];
    if (rows.length <= ROW_BY_ROW) {
      const insert = this.statement('INSERT INTO revocations (family, jti, revoked_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
      for (const r of rows) if (insert.run(family, r.jti, r.revokedAt, r.expiresAt).changes > 0) added.push(r.jti);
      return added;
    }
    for (let i = 0; i < rows.length; i += SQL_BULK_ROWS) {
      const part = rows.slice(i, i + SQL_BULK_ROWS);
      const { insert, params } = this.revocationInsert(family, part, ' RETURNING jti');
      const fresh = new Set(insert.pluck().all(...params) as string[]);
      // In the order asked: callers log them in that order.
      for (const r of part) if (fresh.delete(r.jti)) added.push(r.jti);
      if (i + SQL_BULK_ROWS < rows.length) await this.betweenSlices();
    }
    return added;
  }

  async addRevocationsCounting(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < rows.length; i += SQL_BULK_ROWS) {
      const { insert, params } = this.revocationInsert(family, rows.slice(i, i + SQL_BULK_ROWS), '');
      added += insert.run(...params).changes;
      if (i + SQL_BULK_ROWS < rows.length) await this.betweenSlices();
    }
    return added;
  }

  async addPackedRevocationsCounting(family: string, jtis: Uint8Array, revokedAt: number): Promise<number> {
    // As revocationInsert's plain case, each statement's JSON text written straight from the bytes.
    const insert = this.statement(PLAIN_REVOCATIONS_INSERT);
    const step = SQL_BULK_ROWS * UUID_BYTES;
    let added = 0;
    for (let at = 0; at < jtis.length; at += step) {
      added += insert.run(family, revokedAt, uuidsAsJsonArray(jtis.subarray(at, at + step))).changes;
      if (at + step < jtis.length) await this.betweenSlices();
    }
    return added;
  }

  /**
   * One statement inserting a slice of rows, handed over as one JSON array: SQLite loops over it,
   * where a statement per row cost a round trip through the binding each (most of a bulk import's
   * time). Rows sharing one revokedAt and no expiry (a bulk replace) travel as their jtis alone.
   * `WHERE true` tells the parser the ON CONFLICT belongs to the INSERT, not to a join.
   */
  private revocationInsert(family: string, part: { jti: string; revokedAt: number; expiresAt: number | null }[], returning: string) {
    const revokedAt = part[0]?.revokedAt ?? 0;
    if (part.every((r) => r.revokedAt === revokedAt && r.expiresAt === null)) {
      const insert = this.statement(`${PLAIN_REVOCATIONS_INSERT}${returning}`);
      return { insert, params: [family, revokedAt, jsonStringArray(part.map((r) => r.jti))] };
    }
    const insert = this.statement(`INSERT INTO revocations (family, jti, revoked_at, expires_at) SELECT ?, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true ON CONFLICT DO NOTHING${returning}`);
    return { insert, params: [family, JSON.stringify(part.map((r) => [r.jti, r.revokedAt, r.expiresAt]))] };
  }

  async deleteRevocations(family: string, jtis: string[]): Promise<string[]> {
    if (jtis.length === 0) return [];
    const remove = this.statement('DELETE FROM revocations WHERE family = ? AND jti = ?');
    const deleted: string[] = [];
    const clock = new SliceClock();
    for (const jti of jtis) {
      if (remove.run(family, jti).changes > 0) deleted.push(jti);
      if (clock.due()) await clock.pause();
    }
    return deleted;
  }

  async deleteAllRevocations(family: string): Promise<void> {
    // In slices, the event loop let through between them (a zone replacing a million).
    const slice = this.statement(`DELETE FROM revocations WHERE family = ? AND jti IN (SELECT jti FROM revocations WHERE family = ? ORDER BY jti ${limit(SQL_SLICE_ROWS)})`);
    while (slice.run(family, family).changes > 0) await this.betweenSlices();
  }

  async revokedJtis(family: string): Promise<Set<string>> {
    return new Set(this.statement('SELECT jti FROM revocations WHERE family = ?').pluck().all(family) as string[]);
  }

  async clearStagedRevocations(): Promise<void> {
    // A DELETE without WHERE drops the table's pages whole (SQLite's truncate optimization), a
    // million staged rows in milliseconds where row by row took seconds.
    this.statement('DELETE FROM staged_revocations').run();
    this.statement('DELETE FROM staged_runs').run();
  }

  async stageRevocations(rows: { jti: string; op: 'put' | 'delete'; expiresAt: number | null }[]): Promise<void> {
    // Appended after what is staged, in order, with the start of each run of one operation noted
    // for the merge. A slice of rows per statement, as in addRevocations; a run of puts without
    // expiry (a snapshot of imported revocations) travels as its jtis alone.
    const puts = this.statement(STAGE_PLAIN_PUTS);
    const any = this.statement('INSERT INTO staged_revocations (seq, jti, op, expires_at) SELECT ? + key, value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)');
    const newRun = this.statement(STAGE_RUN);
    let { seq, op } = this.stagedEnd();
    const plain = (r: { op: string; expiresAt: number | null }) => r.op === 'put' && r.expiresAt === null;
    for (let start = 0; start < rows.length; ) {
      const first = rows[start]!;
      const isPlain = plain(first);
      let end = start + 1;
      while (end < rows.length && end - start < SQL_BULK_ROWS && rows[end]!.op === first.op && plain(rows[end]!) === isPlain) end++;
      if (first.op !== op) newRun.run(seq, (op = first.op));
      const part = rows.slice(start, end);
      if (isPlain) puts.run(seq, jsonStringArray(part.map((r) => r.jti)));
      else any.run(seq, JSON.stringify(part.map((r) => [r.jti, r.op, r.expiresAt])));
      seq += part.length;
      start = end;
      if (start < rows.length) await this.betweenSlices();
    }
  }

  async stagePackedPuts(jtis: Uint8Array): Promise<void> {
    if (jtis.length === 0) return;
    // As stageRevocations with puts without expiry; each statement's JSON text written straight
    // from the bytes (uuidsAsJsonArray), no string or object per jti on the way.
    const puts = this.statement(STAGE_PLAIN_PUTS);
    const end = this.stagedEnd();
    let seq = end.seq;
    if (end.op !== 'put') this.statement(STAGE_RUN).run(seq, 'put');
    const step = SQL_BULK_ROWS * UUID_BYTES;
    for (let at = 0; at < jtis.length; at += step) {
      const part = jtis.subarray(at, at + step);
      puts.run(seq, uuidsAsJsonArray(part));
      seq += part.length / UUID_BYTES;
      if (at + step < jtis.length) await this.betweenSlices();
    }
  }

  /** Where staging goes on: the next seq, and the operation of the run it would extend. */
  private stagedEnd(): { seq: number; op: string | undefined } {
    return {
      seq: this.statement('SELECT coalesce(max(seq), 0) + 1 FROM staged_revocations').pluck().get() as number,
      op: this.statement('SELECT op FROM staged_runs ORDER BY first_seq DESC LIMIT 1').pluck().get() as string | undefined,
    };
  }

  async mergeStagedRevocations(family: string, revokedAt: number): Promise<void> {
    // Run after run in the order staged, each in slices of seq, with the event loop let through
    // between them. Within a run every row has the same operation: a put of a jti already held
    // keeps the record there (its revokedAt and expiry), a delete of one not held does nothing.
    const nextRun = this.statement('SELECT first_seq, op FROM staged_runs WHERE first_seq > ? ORDER BY first_seq LIMIT 1');
    const lastSeq = this.statement('SELECT coalesce(max(seq), 0) FROM staged_revocations').pluck().get() as number;
    const remove = this.statement('DELETE FROM revocations WHERE family = ? AND jti IN (SELECT jti FROM staged_revocations WHERE seq >= ? AND seq <= ?)');
    const insert = this.statement('INSERT INTO revocations (family, jti, revoked_at, expires_at) SELECT ?, jti, ?, expires_at FROM staged_revocations WHERE seq >= ? AND seq <= ? ON CONFLICT DO NOTHING');
    let run = nextRun.get(0) as { first_seq: number; op: string } | undefined;
    while (run) {
      const following = nextRun.get(run.first_seq) as { first_seq: number; op: string } | undefined;
      const runEnd = following ? following.first_seq - 1 : lastSeq;
      for (let from = run.first_seq; from <= runEnd; from += SQL_SLICE_ROWS) {
        const to = Math.min(from + SQL_SLICE_ROWS - 1, runEnd);
        if (run.op === 'delete') remove.run(family, from, to);
        else insert.run(family, revokedAt, from, to);
        await this.betweenSlices();
      }
      run = following;
    }
  }

  async putSecret(row: SecretRow): Promise<boolean> {
    const existed = this.statement('SELECT 1 FROM secrets WHERE mesh = ? AND name = ?').get(row.mesh, row.name) !== undefined;
    this.statement(
      'INSERT INTO secrets (mesh, name, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (mesh, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at',
    ).run(row.mesh, row.name, row.data, row.updatedAt);
    return !existed;
  }

  async deleteSecret(mesh: string, name: string): Promise<boolean> {
    return this.statement('DELETE FROM secrets WHERE mesh = ? AND name = ?').run(mesh, name).changes > 0;
  }

  async recordChanges(changes: NewChange[], committedAt: number): Promise<number> {
    // The next version, read and written in one statement (as RECORD_VERSION does on PostgreSQL).
    const version = Number(
      this.statement("INSERT INTO meta (key, value) VALUES ('version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING value").pluck().get(),
    );
    const insert = this.statement('INSERT INTO change_log (version, family, entity, ref, op, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const c of changes) insert.run(version, c.family, c.entity, c.ref, c.op, c.expiresAt);
    // Random, not derived from the changes: two histories that reuse this number never share its id.
    const id = randomVersionId();
    this.statement('INSERT INTO version_ids (version, id, committed_at) VALUES (?, ?, ?)').run(version, id, committedAt);
    this.recorded = { version, id, committedAt, changes };
    return version;
  }

  async pruneChangeLog(keep: number): Promise<void> {
    const total = this.statement('SELECT count(*) FROM change_log').pluck().get() as number;
    if (total <= keep) return;
    const cutoff = this.statement('SELECT version FROM change_log ORDER BY version DESC, seq DESC LIMIT 1 OFFSET ?').pluck().get(keep) as number;
    this.statement('DELETE FROM change_log WHERE version <= ?').run(cutoff);
    // The floor's own id stays: a zone standing exactly at the floor still takes a delta.
    this.statement('DELETE FROM version_ids WHERE version < ?').run(cutoff);
    await this.setMeta('changeLogFloor', String(cutoff));
  }

  async recordIssuedToken(row: IssuedTokenRow): Promise<void> {
    this.statement(`INSERT INTO issued_tokens (${ISSUED_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...issuedTokenValues(row));
  }

  async pruneIssuedTokens(now: number, limit: number): Promise<number> {
    return this.statement('DELETE FROM issued_tokens WHERE (family, jti) IN (SELECT family, jti FROM issued_tokens WHERE expires_at < ? LIMIT ?)').run(now, limit).changes;
  }

  async appendAudit(row: NewAuditRow): Promise<number> {
    return Number(this.statement(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...auditValues(row)).lastInsertRowid);
  }

  async pruneAudit(before: number, limit: number): Promise<number> {
    return this.statement('DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at < ? ORDER BY seq LIMIT ?)').run(before, limit).changes;
  }

  upsertZoneStatus(rows: ZoneStatusRow[]): void {
    const upsert = this.statement(
      `INSERT INTO zone_status (${ZONE_STATUS_COLUMNS})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ${ZONE_STATUS_ON_CONFLICT}`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        upsert.run(r.zone, r.globalInstance, r.connected ? 1 : 0, r.mode, r.ackedVersion, r.lastSyncLatencyMs, r.lastAckAt, r.lastError, r.lastErrorAt, r.connectedAt, r.disconnectedAt, r.softwareVersion);
      }
    })();
  }

  upsertInstance(row: InstanceRow): void {
    this.statement(
      'INSERT INTO instances (instance, plane, started_at, last_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT (instance) DO UPDATE SET last_seen_at = excluded.last_seen_at',
    ).run(row.instance, row.plane, row.startedAt, row.lastSeenAt);
  }
}

