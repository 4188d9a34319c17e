import { formatDuration, parseDuration, type Clock, type SigningKey } from '@meshauth/core';
import type { SyncedState } from './synced-state.js';

/**
 * `keep`: a zone cut off from global keeps trusting what it last applied. `deny-after:<d>`:
 * after d without contact, tokens signed by synced keys are refused, until global is heard again.
 * Returns the `refuseUserKey` hook for the user-token verifier, or undefined for `keep`.
 */
export function downPolicyRefusal(policy: string, state: SyncedState, clock: Clock): ((key: SigningKey) => string | undefined) | undefined {
  const match = /^deny-after:(.+)$/.exec(policy);
  if (!match) return undefined;
  const limitMs = parseDuration(match[1]!);
  return (key) => {
    if (key.origin !== 'synced') return undefined;
    const silentFor = state.lastContactAt === undefined ? Infinity : clock.now() - state.lastContactAt;
    if (silentFor <= limitMs) return undefined;
    const since = state.lastContactAt === undefined ? 'ever' : `for ${formatDuration(silentFor)}`;
    return `user token was signed by a key synced from the global control plane, which this zone has not heard from ${since} (down policy ${policy})`;
  };
}
