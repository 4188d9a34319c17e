import { formatDuration, parseDuration, type Clock, type Readiness } from '@meshauth/core';
import type { SyncedState } from './synced-state.js';

/**
 * A zone is ready once started and, with sync on, once it has applied global's state at least
 * once (kept in the store, so a restart while global is away is still ready) and while its down
 * policy lets it serve that state: under `deny-after:<d>`, not after d without hearing global.
 */
export function zoneReadiness(options: { syncOn: boolean; downPolicy: string; state: SyncedState; clock: Clock }): Readiness {
  const { syncOn, downPolicy, state, clock } = options;
  const deny = /^deny-after:(.+)$/.exec(downPolicy);
  const limitMs = deny ? parseDuration(deny[1]!) : undefined;
  return () => {
    if (!syncOn) return undefined;
    if (state.appliedVersion === 0) return 'not synced with the global control plane yet';
    if (limitMs === undefined) return undefined;
    const silentFor = state.lastContactAt === undefined ? Infinity : clock.now() - state.lastContactAt;
    if (silentFor <= limitMs) return undefined;
    return `no contact with the global control plane for ${Number.isFinite(silentFor) ? formatDuration(silentFor) : 'ever since this start'} (down policy ${downPolicy})`;
  };
}
