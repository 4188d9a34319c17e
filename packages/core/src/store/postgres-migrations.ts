/**
 * The PostgreSQL schema, versioned like the SQLite one: migration i brings the schema from
 * version i to i + 1. Append only; never edit a migration that has shipped. The tables mirror
 * SQLite's (same names and meaning), with BIGINT times in ms.
 */
export const postgresMigrations: string[] = [
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE signing_keys (
    family      TEXT    NOT NULL,
    serial      INTEGER NOT NULL CHECK (serial > 0),
    public_pem  TEXT    NOT NULL,
    private_pem TEXT,
    created_at  BIGINT  NOT NULL,
    origin      TEXT    NOT NULL CHECK (origin IN ('local', 'synced')),
    PRIMARY KEY (family, serial)
  );

  CREATE TABLE revocations (
    family     TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (family, jti)
  );

  CREATE TABLE secrets (
    mesh       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    data       BYTEA  NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (mesh, name)
  );

  -- Every family's changes, one row per changed item; all rows of one transaction share one
  -- version. Writers hold a transaction-scoped advisory lock, so versions commit in order.
  CREATE TABLE change_log (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    BIGINT NOT NULL,
    family     TEXT   NOT NULL,
    entity     TEXT   NOT NULL CHECK (entity IN ('key', 'revocation', 'family')),
    ref        TEXT   NOT NULL,
    op         TEXT   NOT NULL CHECK (op IN ('put', 'delete', 'reload')),
    expires_at BIGINT
  );
  CREATE INDEX change_log_by_version ON change_log (version, seq);

  CREATE TABLE version_ids (
    version      BIGINT PRIMARY KEY,
    id           TEXT   NOT NULL,
    committed_at BIGINT NOT NULL
  );

  CREATE TABLE staged_revocations (
    jti        TEXT PRIMARY KEY,
    op         TEXT NOT NULL CHECK (op IN ('put', 'delete')),
    expires_at BIGINT
  );

  CREATE TABLE zone_status (
    zone                 TEXT    PRIMARY KEY,
    global_instance      TEXT    NOT NULL,
    connected            BOOLEAN NOT NULL,
    mode                 TEXT    NOT NULL,
    acked_version        BIGINT  NOT NULL,
    last_sync_latency_ms BIGINT,
    last_ack_at          BIGINT,
    last_error           TEXT,
    last_error_at        BIGINT,
    connected_at         BIGINT,
    disconnected_at      BIGINT,
    software_version     TEXT    NOT NULL
  );

  CREATE TABLE instances (
    instance     TEXT   PRIMARY KEY,
    plane        TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
  );
  `,
  // The status page lists the newest revocations first; a million must not be sorted per request.
  `CREATE INDEX revocations_by_revoked_at ON revocations (family, revoked_at, jti);`,
  `
  CREATE TABLE issued_tokens (
    family     TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    kind       TEXT   NOT NULL CHECK (kind IN ('user', 'zone', 'dataplane')),
    name       TEXT   NOT NULL,
    groups     JSONB  NOT NULL,
    zone       TEXT   NOT NULL,
    mesh       TEXT   NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    issued_by  TEXT   NOT NULL,
    instance   TEXT   NOT NULL,
    PRIMARY KEY (family, jti)
  );
  CREATE INDEX issued_tokens_by_name ON issued_tokens (family, name);
  CREATE INDEX issued_tokens_by_expiry ON issued_tokens (expires_at);

  CREATE TABLE audit_log (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    actor_groups JSONB  NOT NULL,
    action       TEXT   NOT NULL,
    target       TEXT   NOT NULL,
    result       TEXT   NOT NULL,
    plane        TEXT   NOT NULL,
    instance     TEXT   NOT NULL,
    request_id   TEXT   NOT NULL
  );
  CREATE INDEX audit_log_by_time ON audit_log (at);
  `,
];
