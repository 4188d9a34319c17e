import { randomBytes } from 'node:crypto';
import { UUID_BYTES, uuidsAsJsonArray } from '../tokens/uuid-jti.js';
import { KEY_COLUMNS, toChangeRow, toKeyRow, toVersionInfo } from './row-mappers.js';
import { auditStatement, auditValues, AUDIT_COLUMNS, issuedTokensStatement, issuedTokenValues, ISSUED_TOKEN_COLUMNS, postgresDialect, toAuditRow, toIssuedTokenRow } from './record-queries.js';
import type { AuditQuery, AuditRow, ChangeRow, CommittedVersion, IssuedTokenQuery, IssuedTokenRow, NewAuditRow, NewChange, RevocationRow, RevokedJti, SecretRow, SigningKeyRow, StoreReads, StoreTx, VersionInfo } from './store.js';

/** Runs one statement: the pool outside a transaction, the transaction's client inside one. */
export type Query = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Revocations are read in pages of this many rows (keyset pagination by jti). */
const PAGE_ROWS = 10_000;
/** Rows per multi-row statement (unnest of arrays): one round trip per this many items. */
const BULK_ROWS = 10_000;

/** A write's change-log rows: one array per column, from parameter `first` on, numbered in the order given. */
const changeRows = (first: number) =>
  `unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::bigint[]) WITH ORDINALITY AS c(family, entity, ref, op, expires_at, n)`;
const changeColumns = (part: NewChange[]) => [part.map((c) => c.family), part.map((c) => c.entity), part.map((c) => c.ref), part.map((c) => c.op), part.map((c) => c.expiresAt)];
/** More rows of version $1. ORDER BY n: rows take their seq in the order given. */
const INSERT_CHANGE_ROWS = `INSERT INTO change_log (version, family, entity, ref, op, expires_at)
  SELECT $1::bigint, c.family, c.entity, c.ref, c.op, c.expires_at FROM ${changeRows(2)} ORDER BY n`;
/**
 * A new version in one round trip (a revocation is one): its number (the one after meta's), its
 * rows, its id ($6) and commit time ($7), and meta's new value, which it returns.
 */
const RECORD_VERSION = `WITH next AS (SELECT COALESCE((SELECT value::bigint FROM meta WHERE key = 'version'), 0) + 1 AS version),
  logged AS (INSERT INTO change_log (version, family, entity, ref, op, expires_at)
    SELECT next.version, c.family, c.entity, c.ref, c.op, c.expires_at FROM next, ${changeRows(1)} ORDER BY n),
  named AS (INSERT INTO version_ids (version, id, committed_at) SELECT version, $6, $7 FROM next)
  INSERT INTO meta (key, value) SELECT 'version', version::text FROM next ON CONFLICT (key) DO UPDATE SET value = excluded.value RETURNING value`;

/** The SQL of the PostgreSQL store's reads, over `query`. */
export class PostgresReads implements StoreReads {
  constructor(protected readonly query: Query) {}

  protected async one(sql: string, params: unknown[]): Promise<Record<string, unknown> | undefined> {
    return (await this.query(sql, params))[0];
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.one('SELECT value FROM meta WHERE key = $1', [key]))?.value as string | undefined;
  }

  async listKeys(family: string): Promise<SigningKeyRow[]> {
    return (await this.query(`${KEY_COLUMNS} WHERE family = $1 ORDER BY serial`, [family])).map(toKeyRow);
  }

  async getKey(family: string, serial: number): Promise<SigningKeyRow | undefined> {
    const row = await this.one(`${KEY_COLUMNS} WHERE family = $1 AND serial = $2`, [family, serial]);
    return row ? toKeyRow(row) : undefined;
  }

  async keyFamilies(prefix: string): Promise<string[]> {
    return (await this.query('SELECT DISTINCT family FROM signing_keys WHERE left(family, $1) = $2', [prefix.length, prefix])).map((r) => r.family as string);
  }

  async forEachRevocationPage(family: string, page: (rows: RevokedJti[]) => void | Promise<void>): Promise<void> {
    let after = '';
    for (;;) {
      const rows = await this.query('SELECT jti, expires_at FROM revocations WHERE family = $1 AND jti > $2 ORDER BY jti LIMIT $3', [family, after, PAGE_ROWS]);
      if (rows.length === 0) return;
      await page(rows.map((r) => ({ jti: r.jti as string, expiresAt: r.expires_at === null ? null : Number(r.expires_at) })));
      if (rows.length < PAGE_ROWS) return;
      after = rows[rows.length - 1]!.jti as string;
    }
  }

  async forEachRevokedJtiPage(family: string, page: (jtis: string[]) => void | Promise<void>): Promise<void> {
    let after = '';
    for (;;) {
      const rows = await this.query('SELECT jti FROM revocations WHERE family = $1 AND jti > $2 ORDER BY jti LIMIT $3', [family, after, PAGE_ROWS]);
      if (rows.length === 0) return;
      const jtis = rows.map((r) => r.jti as string);
      await page(jtis);
      if (rows.length < PAGE_ROWS) return;
      after = jtis[jtis.length - 1]!;
    }
  }

  async getRevocation(family: string, jti: string): Promise<RevocationRow | undefined> {
    const row = await this.one('SELECT revoked_at, expires_at FROM revocations WHERE family = $1 AND jti = $2', [family, jti]);
    return row ? { family, jti, revokedAt: Number(row.revoked_at), expiresAt: row.expires_at === null ? null : Number(row.expires_at) } : undefined;
  }

  async countRevocations(family: string): Promise<number> {
    return Number((await this.one('SELECT count(*) AS n FROM revocations WHERE family = $1', [family]))!.n);
  }

  async recentRevocations(family: string, limit: number): Promise<RevocationRow[]> {
    const rows = await this.query('SELECT jti, revoked_at, expires_at FROM revocations WHERE family = $1 ORDER BY revoked_at DESC, jti DESC LIMIT $2', [family, limit]);
    return rows.map((r) => ({ family, jti: r.jti as string, revokedAt: Number(r.revoked_at), expiresAt: r.expires_at === null ? null : Number(r.expires_at) }));
  }

  async expiredRevocations(family: string, now: number, limit: number): Promise<string[]> {
    const rows = await this.query('SELECT jti FROM revocations WHERE family = $1 AND expires_at IS NOT NULL AND expires_at < $2 LIMIT $3', [family, now, limit]);
    return rows.map((r) => r.jti as string);
  }

  async getSecret(mesh: string, name: string): Promise<SecretRow | undefined> {
    const row = await this.one('SELECT data, updated_at FROM secrets WHERE mesh = $1 AND name = $2', [mesh, name]);
    return row ? { mesh, name, data: row.data as Buffer, updatedAt: Number(row.updated_at) } : undefined;
  }

  async listSecrets(mesh: string): Promise<SecretRow[]> {
    const rows = await this.query('SELECT name, data, updated_at FROM secrets WHERE mesh = $1 ORDER BY name', [mesh]);
    return rows.map((r) => ({ mesh, name: r.name as string, data: r.data as Buffer, updatedAt: Number(r.updated_at) }));
  }

  async version(): Promise<number> {
    return Number((await this.getMeta('version')) ?? '0');
  }

  async changeLogFloor(): Promise<number> {
    return Number((await this.getMeta('changeLogFloor')) ?? '0');
  }

  async versionInfo(version: number): Promise<VersionInfo | undefined> {
    const row = await this.one('SELECT version, id, committed_at FROM version_ids WHERE version = $1', [version]);
    return row ? toVersionInfo(row) : undefined;
  }

  async versionsBetween(version: number, through: number): Promise<VersionInfo[]> {
    return (await this.query('SELECT version, id, committed_at FROM version_ids WHERE version > $1 AND version <= $2 ORDER BY version', [version, through])).map(toVersionInfo);
  }

  async changesAfter(version: number, seq: number, limit: number): Promise<ChangeRow[]> {
    const rows = await this.query(
      'SELECT seq, version, family, entity, ref, op, expires_at FROM change_log WHERE (version, seq) > ($1, $2) ORDER BY version, seq LIMIT $3',
      [version, seq, limit],
    );
    return rows.map(toChangeRow);
  }

  async countChangesSince(version: number): Promise<number> {
    return Number((await this.one('SELECT count(*) AS n FROM change_log WHERE version > $1', [version]))!.n);
  }

  async listIssuedTokens(query: IssuedTokenQuery): Promise<IssuedTokenRow[]> {
    const { sql, params } = issuedTokensStatement(postgresDialect, query);
    return (await this.query(sql, params)).map(toIssuedTokenRow);
  }

  async listAudit(query: AuditQuery): Promise<AuditRow[]> {
    const { sql, params } = auditStatement(postgresDialect, query);
    return (await this.query(sql, params)).map(toAuditRow);
  }
}

/** A transaction's statements, on the client that holds the write lock. */
export class PostgresWrites extends PostgresReads implements StoreTx {
  /** The version this transaction recorded: its NOTIFY is sent before the commit, and memory gets it after. */
  recorded: CommittedVersion | undefined;

  async setMeta(key: string, value: string): Promise<void> {
    await this.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async setMetas(entries: readonly (readonly [key: string, value: string])[]): Promise<void> {
    // The last value of a key given twice wins, as with setMeta one by one (one statement may not update a row twice).
    const last = new Map(entries);
    await this.query('INSERT INTO meta (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      [...last.keys()],
      [...last.values()],
    ]);
  }

  async deleteMeta(key: string): Promise<void> {
    await this.query('DELETE FROM meta WHERE key = $1', [key]);
  }

  async putKey(row: SigningKeyRow): Promise<void> {
    await this.query(
      `INSERT INTO signing_keys (family, serial, public_pem, private_pem, created_at, origin) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (family, serial) DO UPDATE SET public_pem = excluded.public_pem, private_pem = excluded.private_pem,
         created_at = excluded.created_at, origin = excluded.origin`,
      [row.family, row.serial, row.publicPem, row.privatePem, row.createdAt, row.origin],
    );
  }

  async deleteKeys(family: string, serials: number[]): Promise<number[]> {
    if (serials.length === 0) return [];
    const rows = await this.query('DELETE FROM signing_keys WHERE family = $1 AND serial = ANY($2::int[]) RETURNING serial', [family, serials]);
    return rows.map((r) => Number(r.serial));
  }

  async deleteAllKeys(family: string): Promise<void> {
    await this.query('DELETE FROM signing_keys WHERE family = $1', [family]);
  }

  async addRevocations(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<string[]> {
    const added: string[] = [];
    for (let i = 0; i < rows.length; i += BULK_ROWS) {
      const part = rows.slice(i, i + BULK_ROWS);
      const inserted = await this.query(
        `INSERT INTO revocations (family, jti, revoked_at, expires_at)
         SELECT $1::text, * FROM unnest($2::text[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING RETURNING jti`,
        [family, part.map((r) => r.jti), part.map((r) => r.revokedAt), part.map((r) => r.expiresAt)],
      );
      const fresh = new Set(inserted.map((r) => r.jti as string));
      // In the order asked, like SQLite's: callers log them in that order.
      for (const r of part) if (fresh.delete(r.jti)) added.push(r.jti);
    }
    return added;
  }

  async addRevocationsCounting(family: string, rows: { jti: string; revokedAt: number; expiresAt: number | null }[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < rows.length; i += BULK_ROWS) {
      const part = rows.slice(i, i + BULK_ROWS);
      const counted = await this.one(
        `WITH inserted AS (INSERT INTO revocations (family, jti, revoked_at, expires_at)
           SELECT $1::text, * FROM unnest($2::text[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING RETURNING 1)
         SELECT count(*) AS n FROM inserted`,
        [family, part.map((r) => r.jti), part.map((r) => r.revokedAt), part.map((r) => r.expiresAt)],
      );
      added += Number(counted!.n);
    }
    return added;
  }

  async addPackedRevocationsCounting(family: string, jtis: Uint8Array, revokedAt: number): Promise<number> {
    // As stagePackedPuts: each statement's jtis as one JSON text written straight from the bytes.
    const step = BULK_ROWS * UUID_BYTES;
    let added = 0;
    for (let at = 0; at < jtis.length; at += step) {
      const counted = await this.one(
        `WITH inserted AS (INSERT INTO revocations (family, jti, revoked_at, expires_at)
           SELECT $1::text, jti, $2::bigint, NULL::bigint FROM json_array_elements_text($3::json) AS t(jti) ON CONFLICT DO NOTHING RETURNING 1)
         SELECT count(*) AS n FROM inserted`,
        [family, revokedAt, uuidsAsJsonArray(jtis.subarray(at, at + step))],
      );
      added += Number(counted!.n);
    }
    return added;
  }

  async deleteRevocations(family: string, jtis: string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (let i = 0; i < jtis.length; i += BULK_ROWS) {
      const part = jtis.slice(i, i + BULK_ROWS);
      const rows = await this.query('DELETE FROM revocations WHERE family = $1 AND jti = ANY($2::text[]) RETURNING jti', [family, part]);
      const gone = new Set(rows.map((r) => r.jti as string));
      for (const jti of part) if (gone.delete(jti)) deleted.push(jti);
    }
    return deleted;
  }

  async deleteAllRevocations(family: string): Promise<void> {
    await this.query('DELETE FROM revocations WHERE family = $1', [family]);
  }

  async revokedJtis(family: string): Promise<Set<string>> {
    const held = new Set<string>();
    await this.forEachRevokedJtiPage(family, (jtis) => {
      for (const jti of jtis) held.add(jti);
    });
    return held;
  }

  async clearStagedRevocations(): Promise<void> {
    await this.query('DELETE FROM staged_revocations');
  }

  async stageRevocations(rows: { jti: string; op: 'put' | 'delete'; expiresAt: number | null }[]): Promise<void> {
    // A jti staged twice keeps its last operation: within one statement too.
    const last = new Map(rows.map((r) => [r.jti, r]));
    const unique = [...last.values()];
    for (let i = 0; i < unique.length; i += BULK_ROWS) {
      const part = unique.slice(i, i + BULK_ROWS);
      await this.query(
        `INSERT INTO staged_revocations (jti, op, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
         ON CONFLICT (jti) DO UPDATE SET op = excluded.op, expires_at = excluded.expires_at`,
        [part.map((r) => r.jti), part.map((r) => r.op), part.map((r) => r.expiresAt)],
      );
    }
  }

  async stagePackedPuts(jtis: Uint8Array): Promise<void> {
    // As stageRevocations with puts without expiry; each statement's jtis as one JSON text written
    // straight from the bytes (uuidsAsJsonArray). DISTINCT: one statement may not update a row twice.
    const step = BULK_ROWS * UUID_BYTES;
    for (let at = 0; at < jtis.length; at += step) {
      await this.query(
        `INSERT INTO staged_revocations (jti, op, expires_at) SELECT DISTINCT jti, 'put', NULL::bigint FROM json_array_elements_text($1::json) AS t(jti)
         ON CONFLICT (jti) DO UPDATE SET op = excluded.op, expires_at = excluded.expires_at`,
        [uuidsAsJsonArray(jtis.subarray(at, at + step))],
      );
    }
  }

  async mergeStagedRevocations(family: string, revokedAt: number): Promise<void> {
    await this.query("DELETE FROM revocations WHERE family = $1 AND jti IN (SELECT jti FROM staged_revocations WHERE op = 'delete')", [family]);
    await this.query(
      "INSERT INTO revocations (family, jti, revoked_at, expires_at) SELECT $1::text, jti, $2::bigint, expires_at FROM staged_revocations WHERE op = 'put' ON CONFLICT DO NOTHING",
      [family, revokedAt],
    );
  }

  async putSecret(row: SecretRow): Promise<boolean> {
    // xmax = 0 only for a freshly inserted row.
    const result = await this.one(
      `INSERT INTO secrets (mesh, name, data, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (mesh, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at RETURNING (xmax = 0) AS created`,
      [row.mesh, row.name, row.data, row.updatedAt],
    );
    return result!.created as boolean;
  }

  async deleteSecret(mesh: string, name: string): Promise<boolean> {
    return (await this.query('DELETE FROM secrets WHERE mesh = $1 AND name = $2 RETURNING name', [mesh, name])).length > 0;
  }

  async recordChanges(changes: NewChange[], committedAt: number): Promise<number> {
    const id = randomBytes(8).toString('hex');
    const recorded = await this.one(RECORD_VERSION, [...changeColumns(changes.slice(0, BULK_ROWS)), id, committedAt]);
    const version = Number(recorded!.value);
    for (let i = BULK_ROWS; i < changes.length; i += BULK_ROWS) await this.query(INSERT_CHANGE_ROWS, [version, ...changeColumns(changes.slice(i, i + BULK_ROWS))]);
    this.recorded = { version, id, committedAt, changes };
    return version;
  }

  async pruneChangeLog(keep: number): Promise<void> {
    const total = Number((await this.one('SELECT count(*) AS n FROM change_log', []))!.n);
    if (total <= keep) return;
    const cutoff = Number((await this.one('SELECT version FROM change_log ORDER BY version DESC, seq DESC LIMIT 1 OFFSET $1', [keep]))!.version);
    await this.query('DELETE FROM change_log WHERE version <= $1', [cutoff]);
    // The floor's own id stays: a zone standing exactly at the floor still takes a delta.
    await this.query('DELETE FROM version_ids WHERE version < $1', [cutoff]);
    await this.setMeta('changeLogFloor', String(cutoff));
  }

  async recordIssuedToken(row: IssuedTokenRow): Promise<void> {
    await this.query(`INSERT INTO issued_tokens (${ISSUED_TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, issuedTokenValues(row));
  }

  async pruneIssuedTokens(now: number, limit: number): Promise<number> {
    const rows = await this.query(
      'DELETE FROM issued_tokens WHERE (family, jti) IN (SELECT family, jti FROM issued_tokens WHERE expires_at < $1 LIMIT $2) RETURNING jti',
      [now, limit],
    );
    return rows.length;
  }

  async appendAudit(row: NewAuditRow): Promise<number> {
    const inserted = await this.one(`INSERT INTO audit_log (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq`, auditValues(row));
    return Number(inserted!.seq);
  }

  async pruneAudit(before: number, limit: number): Promise<number> {
    const rows = await this.query('DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at < $1 ORDER BY seq LIMIT $2) RETURNING seq', [before, limit]);
    return rows.length;
  }
}
