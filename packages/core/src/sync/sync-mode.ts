import type { SyncMode } from '../config/defaults.js';
import type { SyncMode__Output } from '../gen/meshauth/v1/SyncMode.js';

const order: readonly SyncMode[] = ['off', 'public', 'private'];

/** What flows is the lesser of what the zone asks and what global allows. */
export function effectiveSyncMode(zoneAsks: SyncMode, globalAllows: SyncMode): SyncMode {
  return order[Math.min(order.indexOf(zoneAsks), order.indexOf(globalAllows))]!;
}

export function toProtoMode(mode: SyncMode): SyncMode__Output {
  return mode === 'private' ? 'SYNC_MODE_PRIVATE' : mode === 'public' ? 'SYNC_MODE_PUBLIC' : 'SYNC_MODE_OFF';
}

/** Unknown or unspecified modes read as `off`: a peer never gets more than it clearly asked for. */
export function fromProtoMode(mode: SyncMode__Output | string | number | undefined): SyncMode {
  return mode === 'SYNC_MODE_PRIVATE' ? 'private' : mode === 'SYNC_MODE_PUBLIC' ? 'public' : 'off';
}
