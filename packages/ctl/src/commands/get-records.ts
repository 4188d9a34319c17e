import type { Command } from 'commander';
import type { AuditEntry } from '@meshauth/core';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { UsageError } from '../errors.js';
import { outputOption, render, type OutputFormat } from '../output.js';

interface IssuedUserToken {
  jti: string;
  name: string;
  groups: string[];
  issuedAt: string;
  expiresAt: string;
  issuedBy: string;
  instance: string;
  revoked: boolean;
  expired: boolean;
}

/** Pages of `GET /audit` fetched until this many entries are shown (or none are left). */
const DEFAULT_AUDIT_LIMIT = 100;

/** `get user-tokens` (issued-token records) and `get audit` (the admin-action log). */
export function registerRecordCommands(get: Command, io: CliIo): void {
  const tokens = get
    .command('user-tokens')
    .description('list the user tokens the control plane issued (records only: ID, subject, times, issuer; never the token)')
    .option('--name <name>', 'only tokens issued to this user')
    .option('--group <group>', 'only tokens naming this group')
    .addOption(outputOption())
    .action(async (opts: { name?: string; group?: string; output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const query = new URLSearchParams({ ...(opts.name ? { name: opts.name } : {}), ...(opts.group ? { group: opts.group } : {}) }).toString();
      const data = await client.json<{ total: number; items: IssuedUserToken[]; unrecordedBefore?: string }>('GET', `/tokens/user${query ? `?${query}` : ''}`);
      io.stdout(render(opts.output, { data, rows: data.items, columns: tokenColumns }));
      if (opts.output === 'table' && data.unrecordedBefore) io.stderr(`note: tokens issued before ${data.unrecordedBefore} were not recorded and are not listed\n`);
    });
  withExamples(tokens, 'meshctl get user-tokens --name john', 'meshctl get user-tokens --group team-a -o json');

  const audit = get
    .command('audit')
    .description('show the audit log of admin actions, newest first')
    .option('--actor <actor>', 'only actions by this actor (a user name, "localhost admin", …)')
    .option('--action <action>', 'only this action, e.g. user-token.generate, user-token.revoke, secret.put')
    .option('--since <time>', 'only entries at or after this time (ISO 8601, e.g. 2026-12-01T00:00:00Z)')
    .option('--limit <n>', 'show at most this many entries', String(DEFAULT_AUDIT_LIMIT))
    .addOption(outputOption())
    .action(async (opts: { actor?: string; action?: string; since?: string; limit: string; output: OutputFormat }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(opts.limit)}`);
      const { client } = await openSession(cmd, io);
      const items: AuditEntry[] = [];
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({
          ...(opts.actor ? { actor: opts.actor } : {}),
          ...(opts.action ? { action: opts.action } : {}),
          ...(opts.since ? { since: opts.since } : {}),
          ...(cursor ? { cursor } : {}),
          size: String(Math.min(1_000, limit - items.length)),
        });
        const page: { items: AuditEntry[]; next: string | null } = await client.json('GET', `/audit?${query.toString()}`);
        items.push(...page.items);
        cursor = page.next;
      } while (cursor !== null && items.length < limit);
      io.stdout(render(opts.output, { data: { items }, rows: items, columns: auditColumns }));
    });
  withExamples(audit, 'meshctl get audit', 'meshctl get audit --actor john --action user-token.generate --since 2026-12-01T00:00:00Z');
}

const tokenColumns = [
  { header: 'jti', value: (t: IssuedUserToken) => t.jti },
  { header: 'name', value: (t: IssuedUserToken) => t.name },
  { header: 'groups', value: (t: IssuedUserToken) => t.groups.join(',') },
  { header: 'issued', value: (t: IssuedUserToken) => t.issuedAt },
  { header: 'expires', value: (t: IssuedUserToken) => t.expiresAt },
  { header: 'issued by', value: (t: IssuedUserToken) => t.issuedBy },
  { header: 'status', value: (t: IssuedUserToken) => (t.revoked ? 'revoked' : t.expired ? 'expired' : 'valid') },
];

const auditColumns = [
  { header: 'time', value: (e: AuditEntry) => e.time },
  { header: 'actor', value: (e: AuditEntry) => e.actor },
  { header: 'action', value: (e: AuditEntry) => e.action },
  { header: 'target', value: (e: AuditEntry) => e.target },
  { header: 'result', value: (e: AuditEntry) => e.result },
];
