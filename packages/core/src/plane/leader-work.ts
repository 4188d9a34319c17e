import type { Logger } from '../observability/logger.js';
import type { StoreLease } from '../store/store.js';

export interface LeaderTask {
  /** For the log line when a run fails. */
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

export interface LeaderWork {
  /** What the leader runs, for the log: "the periodic work (pruning)". */
  role: string;
  /** Runs at once on gaining the lease, then every `everyMs` while it is held. */
  periodic?: LeaderTask[];
  /** Called on gaining the lease (a zone starts its sync stream here). */
  lead?(): void;
  /** Called on losing it. */
  follow?(): void;
}

/**
 * Work one replica does for all (as Kuma's components with NeedLeaderElection): runs while this
 * process holds `lease`, stops the moment it loses it, and starts on whichever replica takes the
 * lease over. On SQLite the one process always holds it. Returns the function that stops it all.
 */
export function startLeaderWork(lease: StoreLease, logger: Logger, work: LeaderWork): () => void {
  let timers: NodeJS.Timeout[] = [];
  const stopTimers = () => {
    for (const timer of timers) clearInterval(timer);
    timers = [];
  };
  const onChange = (held: boolean) => {
    stopTimers();
    logger.info(held ? `leader: this replica now runs ${work.role}` : `leader: this replica no longer runs ${work.role}`);
    if (!held) return work.follow?.();
    for (const task of work.periodic ?? []) {
      const run = () => void task.run().catch((error: unknown) => logger.warn({ err: error, task: task.name }, 'leader: periodic work failed; retrying on the next tick'));
      run();
      const timer = setInterval(run, task.everyMs);
      timer.unref();
      timers.push(timer);
    }
    work.lead?.();
  };
  const unsubscribe = lease.onChange(onChange);
  if (lease.held) onChange(true);
  return () => {
    unsubscribe();
    stopTimers();
  };
}
