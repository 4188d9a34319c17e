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
 * Says when the synchronous work since the last pause has run `SLICE_MS`: a bulk loop over
 * synchronous statements (SQLite) stays within a few milliseconds a slice however loaded the
 * machine is, and a small write (a few rows) never yields at all.
 */
export class SliceClock {
  private since = performance.now();
  private calls = 0;

  /** True when the caller should `await pause()` now (checked cheaply: no await per row). */
  due(): boolean {
    // The clock is read every 64 rows: a row takes microseconds.
    return (++this.calls & 63) === 0 && performance.now() - this.since >= SLICE_MS;
  }

  /** Lets the event loop run, then starts the next slice. */
  async pause(): Promise<void> {
    await yieldToLoop();
    this.since = performance.now();
  }
}
