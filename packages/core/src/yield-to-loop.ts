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

/** Synchronous work runs at most about this long before the event loop gets a turn. */
const SLICE_MS = 10;

/**
 * Yields when the synchronous work since the last yield has run `SLICE_MS`: a bulk loop over
 * synchronous statements (SQLite) stays within a few milliseconds a slice however loaded the
 * machine is, and a small write (a few rows) never yields at all.
 */
export class SliceClock {
  private since = performance.now();

  async tick(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await yieldToLoop();
    this.since = performance.now();
  }
}
