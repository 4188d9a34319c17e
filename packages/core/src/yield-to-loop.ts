/**
 * Lets the event loop run what waits (requests, heartbeats, timers) before going on: bulk work
 * (a million-revocation import, a snapshot's encoding or application) runs in slices with this
 * between them, so no caller of the plane waits for the whole of it.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Rows handled between two yields by bulk work: a slice takes a few milliseconds. */
export const BULK_SLICE_ROWS = 5_000;
