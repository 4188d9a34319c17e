import type { PlaneContext } from '../api/plane-context.js';
import { parseDuration } from '../duration.js';
import type { LeaderTask } from './leader-work.js';

const HOUR_MS = 3_600_000;

/**
 * The leader's pruning of what both planes record: issued-token records past their token's exp
 * (like expired revocations), and audit entries older than `audit.retention`.
 */
export function recordPruningTasks(ctx: Pick<PlaneContext, 'issuedTokens' | 'audit' | 'config'>): LeaderTask[] {
  const retentionMs = parseDuration(ctx.config.audit.retention);
  return [
    { name: 'prune expired issued-token records', everyMs: HOUR_MS, run: async () => void (await ctx.issuedTokens.pruneExpired()) },
    { name: 'prune the audit log', everyMs: HOUR_MS, run: async () => void (await ctx.audit.prune(retentionMs)) },
  ];
}
