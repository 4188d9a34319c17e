import type { Logger, PlaneContext, StoreLease } from '@meshauth/core';

/** Hourly: drop revocations of tokens that have expired anyway. */
const PRUNE_REVOCATIONS_MS = 3_600_000;
/** How often the change log is trimmed to multizone.global.changeLogRetention. */
const PRUNE_CHANGE_LOG_MS = 60_000;

/**
 * Periodic work one replica does for all (as Kuma's components with NeedLeaderElection): runs
 * while this replica holds the `global-leader` lease, stops the moment it loses it, and starts on
 * whichever replica takes the lease over.
 */
export function startLeaderWork(ctx: PlaneContext, lease: StoreLease): () => void {
  const { logger } = ctx;
  let timers: NodeJS.Timeout[] = [];
  const every = (ms: number, work: () => Promise<void>) => {
    const run = () => void work().catch((error: unknown) => logger.warn({ err: error }, 'leader: periodic work failed; retrying on the next tick'));
    run();
    const timer = setInterval(run, ms);
    timer.unref();
    timers.push(timer);
  };
  const lead = (held: boolean) => {
    for (const timer of timers) clearInterval(timer);
    timers = [];
    logLeadership(logger, ctx.instance, held);
    if (!held) return;
    every(PRUNE_REVOCATIONS_MS, async () => {
      for (const family of [ctx.families.user.family, ctx.families.zone.family]) await family.pruneExpiredRevocations();
    });
    every(PRUNE_CHANGE_LOG_MS, () => ctx.store.transaction((tx) => tx.pruneChangeLog(ctx.config.multizone.global.changeLogRetention)));
  };
  const unsubscribe = lease.onChange(lead);
  if (lease.held) lead(true);
  return () => {
    unsubscribe();
    for (const timer of timers) clearInterval(timer);
  };
}

function logLeadership(logger: Logger, instance: string, held: boolean): void {
  logger.info({ instance }, held ? 'leader: this replica now runs the periodic work (pruning)' : 'leader: this replica no longer leads');
}
