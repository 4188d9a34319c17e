import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { MeshAuthError } from '../errors.js';
import { postgresMigrations } from './postgres-migrations.js';
import { PostgresReads, PostgresWrites, type Query } from './postgres-statements.js';
import { toZoneStatusRow, ZONE_STATUS_COLUMNS, ZONE_STATUS_ON_CONFLICT } from './row-mappers.js';
import type { ChangeHint, InstanceRow, Store, StoreLease, StoreTx, ZoneStatusRow } from './store.js';

type PostgresDriver = typeof pg;
let driver: Promise<PostgresDriver> | undefined;

/**
 * The client library is loaded by the first store opened, not with this module: a plane on SQLite
 * (every zone by default) never loads it, about 5 MB of an idle zone's resident memory.
 */
function loadDriver(): Promise<PostgresDriver> {
  return (driver ??= import('pg').then((module) => module.default));
}

export interface PostgresSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  dbName: string;
  tlsMode: 'disable' | 'verifyNone' | 'verifyCa' | 'verifyFull';
  tlsCaPath: string;
  maxOpenConnections: number;
}

/** NOTIFY channel: the payload is the version committed; receivers read the log from there. */
const CHANNEL = 'meshauth_changes';
/** Advisory lock keys: one for writers (transaction-scoped), one per named lock or lease. */
const WRITE_LOCK = 0x6d657368;
/**
 * A connection attempt or a statement that takes longer fails: a write against a database that
 * stopped answering gets its 503 within 15 s (one of these, never both: a broken connection is
 * dropped, not rolled back over).
 */
const CONNECT_TIMEOUT_MS = 4_000;
const STATEMENT_TIMEOUT_MS = 10_000;
/** How often a lease holder checks its connection, and a non-holder tries to take the lease. */
const LEASE_CHECK_MS = 1_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * Replicas sharing one PostgreSQL database (as Kuma's KUMA_STORE_TYPE=postgres). Writes hold a
 * transaction-scoped advisory lock, so versions commit in order; each commit NOTIFYs the others,
 * and a dedicated LISTEN connection turns that into change hints (reconnecting by itself, with a
 * hint after every reconnect since notifications may have been missed meanwhile). Leases are
 * session advisory locks on a connection of their own: a holder that dies loses the lock the
 * moment its connection closes.
 */
export class PostgresStore implements Store {
  readonly type = 'postgres' as const;
  readonly location: string;
  readonly read: PostgresReads;
  epoch = '';
  private readonly pool: pg.Pool;
  private readonly hints = new EventEmitter();
  private listener: pg.Client | undefined;
  private closed = false;
  private readonly leases = new Set<PostgresLease>();

  private constructor(
    private readonly settings: PostgresSettings,
    private readonly driver: PostgresDriver,
  ) {
    this.location = `postgres://${settings.user}@${settings.host}:${settings.port}/${settings.dbName}`;
    this.pool = new driver.Pool({ ...this.clientConfig(), max: settings.maxOpenConnections, idleTimeoutMillis: 30_000 });
    // An idle client that loses its connection must not crash the process: the pool replaces it.
    this.pool.on('error', () => {});
    this.read = new PostgresReads(this.poolQuery);
    this.hints.setMaxListeners(0);
  }

  /** Connects, runs the migrations (once, under a lock, however many replicas start together), starts listening. */
  static async open(settings: PostgresSettings): Promise<PostgresStore> {
    const store = new PostgresStore(settings, await loadDriver());
    try {
      await store.migrate();
      await store.startListening(true);
      return store;
    } catch (error) {
      await store.close();
      throw store.unavailable(error, 'cannot open');
    }
  }

  /** A connection of its own (not the pool's), not yet connected. */
  private readonly newClient = (): pg.Client => new this.driver.Client(this.clientConfig());

  clientConfig(): pg.ClientConfig {
    const { host, port, user, password, dbName, tlsMode, tlsCaPath } = this.settings;
    const ca = tlsCaPath ? readFileSync(tlsCaPath, 'utf8') : undefined;
    // Kuma's modes: disable, require (no verification), verify-ca, verify-full.
    const ssl =
      tlsMode === 'disable' ? false
      : tlsMode === 'verifyNone' ? { rejectUnauthorized: false }
      : tlsMode === 'verifyCa' ? { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined }
      : { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
    return {
      host,
      port,
      user,
      password,
      database: dbName,
      ssl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS,
      keepAlive: true,
      application_name: 'meshauth',
    };
  }

  private readonly poolQuery: Query = async (sql, params) => {
    try {
      return (await this.pool.query(sql, params)).rows as Record<string, unknown>[];
    } catch (error) {
      throw this.unavailable(error);
    }
  };

  private async migrate(): Promise<void> {
    const client = this.newClient();
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [WRITE_LOCK + 1]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL)');
      const current = Number((await client.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v ?? 0);
      if (current > postgresMigrations.length) {
        throw new MeshAuthError('ERR_STORE_UNAVAILABLE', `the database schema version ${current} is newer than this binary knows (${postgresMigrations.length}); upgrade meshauth`);
      }
      for (let version = current; version < postgresMigrations.length; version++) {
        await client.query('BEGIN');
        await client.query(postgresMigrations[version]!);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
        await client.query('COMMIT');
      }
      await client.query("INSERT INTO meta (key, value) VALUES ('epoch', $1) ON CONFLICT (key) DO NOTHING", [randomUUID()]);
      this.epoch = (await client.query("SELECT value FROM meta WHERE key = 'epoch'")).rows[0].value as string;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.unavailable(error);
    }
    let broken: unknown;
    // The pool takes its own error listener off a client it hands out, and a client with none
    // throws an 'error' event (PostgreSQL going away between two statements: "terminating
    // connection due to administrator command") as an uncaught exception: the plane would exit.
    // Here it marks the connection broken; the next statement fails with the store's 503.
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    const release = (error?: Error) => {
      client.off('error', onError);
      client.release(error);
    };
    const query: Query = async (sql, params) => {
      try {
        return (await client.query(sql, params)).rows as Record<string, unknown>[];
      } catch (error) {
        broken = error;
        throw this.unavailable(error);
      }
    };
    const tx = new PostgresWrites(query);
    try {
      // Two statements to a round trip where they need no parameters (the simple protocol takes
      // several): with recordChanges one statement too, a revocation and its audit entry take five
      // round trips where they took ten. Only constants and a version number (an integer the store
      // counted) are written into the SQL.
      await query(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
      const result = await fn(tx);
      // The NOTIFY is delivered at commit, to every listening replica.
      const { recorded } = tx;
      await query(recorded === undefined ? 'COMMIT' : `SELECT pg_notify('${CHANNEL}', '${Math.trunc(recorded.version)}'); COMMIT`);
      release();
      if (recorded !== undefined) this.hints.emit('hint', { committed: recorded } satisfies ChangeHint);
      return result;
    } catch (error) {
      // A connection that failed or timed out is destroyed; waiting on a ROLLBACK there would only wait again.
      if (broken === undefined) await client.query('ROLLBACK').catch(() => {});
      release(broken === undefined ? undefined : (broken as Error));
      throw error instanceof MeshAuthError ? error : this.unavailable(error);
    }
  }

  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const client = this.newClient();
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT pg_advisory_lock($1)', [lockKey(name)]);
    } catch (error) {
      await client.end().catch(() => {});
      throw this.unavailable(error);
    }
    try {
      return await fn();
    } finally {
      await client.end().catch(() => {});
    }
  }

  lease(name: string, owner: string): StoreLease {
    const lease = new PostgresLease(this.newClient, lockKey(name), owner, () => this.leases.delete(lease));
    this.leases.add(lease);
    return lease;
  }

  onChangeHint(listener: (hint: ChangeHint) => void): () => void {
    this.hints.on('hint', listener);
    return () => this.hints.off('hint', listener);
  }

  /** LISTEN on a connection of its own, reconnecting with backoff; every (re)connect is a hint. */
  private async startListening(initial: boolean, delay = RECONNECT_MIN_MS): Promise<void> {
    if (this.closed) return;
    const client = this.newClient();
    const retry = () => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      client.end().catch(() => {});
      const timer = setTimeout(() => void this.startListening(false, Math.min(RECONNECT_MAX_MS, delay * 2)), delay);
      timer.unref();
    };
    this.listener = client;
    client.on('error', retry);
    client.on('end', retry);
    // The payload is the version committed (its own commits come back here too: memory has those already).
    client.on('notification', (notification) => {
      const version = Number(notification.payload);
      this.hints.emit('hint', (Number.isSafeInteger(version) ? { version } : {}) satisfies ChangeHint);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      // At open, fail the open; later, keep retrying in the background.
      if (initial) {
        this.listener = undefined;
        await client.end().catch(() => {});
        throw error;
      }
      retry();
      return;
    }
    this.hints.emit('hint', {} satisfies ChangeHint);
  }

  async upsertZoneStatus(rows: ZoneStatusRow[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <K extends keyof ZoneStatusRow>(key: K) => rows.map((r) => r[key]);
    await this.poolQuery(
      `INSERT INTO zone_status (${ZONE_STATUS_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[])
       ${ZONE_STATUS_ON_CONFLICT}`,
      [
        column('zone'), column('globalInstance'), column('connected'), column('mode'), column('ackedVersion'), column('lastSyncLatencyMs'),
        column('lastAckAt'), column('lastError'), column('lastErrorAt'), column('connectedAt'), column('disconnectedAt'), column('softwareVersion'),
      ],
    );
  }

  async listZoneStatus(): Promise<ZoneStatusRow[]> {
    return (await this.poolQuery('SELECT * FROM zone_status ORDER BY zone')).map(toZoneStatusRow);
  }

  async heartbeatInstance(row: InstanceRow, since: number): Promise<InstanceRow[]> {
    await this.poolQuery(
      'INSERT INTO instances (instance, plane, started_at, last_seen_at) VALUES ($1, $2, $3, $4) ON CONFLICT (instance) DO UPDATE SET last_seen_at = excluded.last_seen_at',
      [row.instance, row.plane, row.startedAt, row.lastSeenAt],
    );
    const rows = await this.poolQuery('SELECT instance, plane, started_at, last_seen_at FROM instances WHERE last_seen_at >= $1 ORDER BY instance', [since]);
    return rows.map((r) => ({ instance: r.instance as string, plane: r.plane as string, startedAt: Number(r.started_at), lastSeenAt: Number(r.last_seen_at) }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lease of [...this.leases]) await lease.release();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }

  /** A failure reaching the database, as a 503 naming it (never its password). */
  unavailable(error: unknown, doing = 'cannot reach'): unknown {
    if (error instanceof MeshAuthError) return error;
    const code = (error as { code?: string }).code ?? '';
    // Constraint violations and SQL mistakes are bugs or bad input, not an outage.
    if (/^(22|23|42)/.test(code)) return error;
    const message = (error as Error).message ?? String(error);
    return new MeshAuthError('ERR_STORE_UNAVAILABLE', `${doing} the PostgreSQL store ${this.location}: ${message.replaceAll(this.settings.password || '\u0000', '***')}`, { cause: error });
  }
}

/** Holds (or keeps trying to take) one session advisory lock on a connection of its own. */
class PostgresLease implements StoreLease {
  held = false;
  private client: pg.Client | undefined;
  private readonly events = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  constructor(
    private readonly newClient: () => pg.Client,
    private readonly key: number,
    readonly owner: string,
    private readonly forget: () => void,
  ) {
    void this.tick();
  }

  onChange(listener: (held: boolean) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private set(held: boolean): void {
    if (this.held === held) return;
    this.held = held;
    this.events.emit('change', held);
  }

  private async tick(): Promise<void> {
    if (this.released) return;
    try {
      if (!this.client) {
        const client = this.newClient();
        client.on('error', () => this.drop(client));
        client.on('end', () => this.drop(client));
        this.client = client;
        await client.connect();
      }
      if (this.held) await this.client.query('SELECT 1');
      else if ((await this.client.query('SELECT pg_try_advisory_lock($1) AS ok', [this.key])).rows[0].ok === true) this.set(true);
    } catch {
      if (this.client) this.drop(this.client);
    }
    if (!this.released) {
      this.timer = setTimeout(() => void this.tick(), LEASE_CHECK_MS);
      this.timer.unref();
    }
  }

  /** The connection is gone, and with it the lock: this process no longer leads. */
  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.set(false);
  }

  async release(): Promise<void> {
    this.released = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.set(false);
    await client?.end().catch(() => {});
    this.forget();
  }
}

/** A stable 31-bit advisory-lock key per name (distinct from the write lock's). */
function lockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of `meshauth:${name}`) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return (hash & 0x3fffffff) + 0x10000;
}
