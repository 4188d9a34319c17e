import type { AuditQuery, AuditRow, IssuedTokenQuery, IssuedTokenRow } from './store.js';

/**
 * The SQL of issued-token records and the audit log, for both stores: the filters are optional,
 * so the statement is built from the ones given. `dialect` supplies what differs: placeholders,
 * and how a JSON array of groups is searched.
 */
export interface Dialect {
  param(index: number): string;
  /** A condition true when the JSON array column `column` holds the string at `param`. */
  holds(column: string, param: string): string;
}

export const sqliteDialect: Dialect = {
  param: () => '?',
  holds: (column, param) => `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value = ${param})`,
};

export const postgresDialect: Dialect = {
  param: (index) => `$${index}`,
  holds: (column, param) => `${column} @> jsonb_build_array(${param}::text)`,
};

export interface Statement {
  sql: string;
  params: unknown[];
}

export const ISSUED_TOKEN_COLUMNS = 'family, jti, kind, name, groups, zone, mesh, issued_at, expires_at, issued_by, instance';
export const AUDIT_COLUMNS = 'at, actor, actor_groups, action, target, result, plane, instance, request_id';

function where(dialect: Dialect, conditions: [string, unknown][], params: unknown[]): string {
  const parts = conditions.map(([condition, value]) => {
    params.push(value);
    return condition.replaceAll('{}', dialect.param(params.length));
  });
  return parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '';
}

export function issuedTokensStatement(dialect: Dialect, q: IssuedTokenQuery): Statement {
  const params: unknown[] = [];
  const conditions: [string, unknown][] = [['family = {}', q.family]];
  if (q.name !== undefined) conditions.push(['name = {}', q.name]);
  if (q.group !== undefined) conditions.push([dialect.holds('groups', '{}'), q.group]);
  if (q.unexpiredAt !== undefined) conditions.push(['expires_at >= {}', q.unexpiredAt]);
  const filter = where(dialect, conditions, params);
  params.push(q.limit);
  return { sql: `SELECT ${ISSUED_TOKEN_COLUMNS} FROM issued_tokens ${filter} ORDER BY issued_at DESC, jti LIMIT ${dialect.param(params.length)}`, params };
}

export function auditStatement(dialect: Dialect, q: AuditQuery): Statement {
  const params: unknown[] = [];
  const conditions: [string, unknown][] = [];
  if (q.actor !== undefined) conditions.push(['actor = {}', q.actor]);
  if (q.action !== undefined) conditions.push(['action = {}', q.action]);
  if (q.since !== undefined) conditions.push(['at >= {}', q.since]);
  if (q.before !== undefined) conditions.push(['seq < {}', q.before]);
  const filter = where(dialect, conditions, params);
  params.push(q.limit);
  return { sql: `SELECT seq, ${AUDIT_COLUMNS} FROM audit_log ${filter} ORDER BY seq DESC LIMIT ${dialect.param(params.length)}`, params };
}

const list = (value: unknown): string[] => (typeof value === 'string' ? (JSON.parse(value) as string[]) : (value as string[]));

export function toIssuedTokenRow(r: Record<string, unknown>): IssuedTokenRow {
  return {
    family: r.family as string,
    jti: r.jti as string,
    kind: r.kind as IssuedTokenRow['kind'],
    name: r.name as string,
    groups: list(r.groups),
    zone: r.zone as string,
    mesh: r.mesh as string,
    issuedAt: Number(r.issued_at),
    expiresAt: Number(r.expires_at),
    issuedBy: r.issued_by as string,
    instance: r.instance as string,
  };
}

export function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    actor: r.actor as string,
    actorGroups: list(r.actor_groups),
    action: r.action as string,
    target: r.target as string,
    result: r.result as string,
    plane: r.plane as string,
    instance: r.instance as string,
    requestId: r.request_id as string,
  };
}

export const issuedTokenValues = (r: IssuedTokenRow): unknown[] => [r.family, r.jti, r.kind, r.name, JSON.stringify(r.groups), r.zone, r.mesh, r.issuedAt, r.expiresAt, r.issuedBy, r.instance];
export const auditValues = (r: Omit<AuditRow, 'seq'>): unknown[] => [r.at, r.actor, JSON.stringify(r.actorGroups), r.action, r.target, r.result, r.plane, r.instance, r.requestId];
