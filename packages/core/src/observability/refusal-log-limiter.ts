import type { Clock } from '../clock.js';
import type { Logger } from './logger.js';

/**
 * How much refusal logging one client address may cause. A refusal costs the client one cheap
 * request and the server one log line, so without a bound a single connection fills the disk
 * (200 refused requests a second with long URLs were 29 MB/s). Each refusal is still counted in
 * the metrics; only the lines are limited.
 */
export const refusalLogDefaults = {
  /** Refusal lines per address per window; the rest are counted and then summarised in one line. */
  linesPerWindow: 10,
  /** Length of a window, ms. */
  windowMs: 60_000,
  /** Addresses tracked at once (memory bound); beyond that, every new address shares one allowance. */
  maxAddresses: 10_000,
} as const;

export type RefusalLogLimits = { [K in keyof typeof refusalLogDefaults]: number };

/** The summary line's "from" when the table is full: many addresses at once, limited together. */
export const OTHER_ADDRESSES = 'other addresses';

export interface RefusalLogLimiterOptions {
  /** Where summary lines go. */
  logger: Logger;
  clock: Clock;
  /** Counted once for every refusal line not written. */
  suppressed: { inc(): void };
  limits?: Partial<RefusalLogLimits>;
}

export interface RefusalLogLimiter {
  /** Whether this refusal from `remoteAddress` gets its log line; if not, it is counted as suppressed. */
  admit(remoteAddress: string | undefined): boolean;
  /** Ends the windows that are over: one summary line for each address that had lines suppressed; forgets them. */
  sweep(): void;
  /** At server close: summarises every open window and stops the sweep timer. */
  close(): void;
  /** Addresses tracked now, the overflow allowance included. */
  readonly size: number;
}

interface Window {
  startedAt: number;
  logged: number;
  suppressed: number;
}

/**
 * At most `linesPerWindow` refusal lines per client address in each window, then
 * "suppressed K refusal lines from <address>" once the window is over. A timer sweeps ended
 * windows every `windowMs`, so the summary comes soon after a burst and idle addresses are
 * forgotten; the table never holds more than `maxAddresses` entries plus the shared one.
 */
export function createRefusalLogLimiter(options: RefusalLogLimiterOptions): RefusalLogLimiter {
  const limits: RefusalLogLimits = { ...refusalLogDefaults, ...options.limits };
  const windows = new Map<string, Window>();
  const { clock, logger } = options;

  const summarise = (from: string, window: Window) => {
    if (window.suppressed === 0) return;
    logger.info(
      { remoteAddress: from, suppressed: window.suppressed, windowSeconds: limits.windowMs / 1000 },
      `suppressed ${window.suppressed} refusal lines from ${from}`,
    );
  };
  const windowOf = (address: string, now: number): [string, Window] => {
    let key = address;
    let window = windows.get(key);
    if (window === undefined) {
      if (windows.size >= limits.maxAddresses) key = OTHER_ADDRESSES;
      window = windows.get(key);
      if (window === undefined) {
        window = { startedAt: now, logged: 0, suppressed: 0 };
        windows.set(key, window);
      }
    }
    return [key, window];
  };
  const sweep = (all: boolean) => {
    const now = clock.now();
    for (const [key, window] of windows) {
      if (all || now - window.startedAt >= limits.windowMs) {
        summarise(key, window);
        windows.delete(key);
      }
    }
  };

  const timer = setInterval(() => sweep(false), limits.windowMs);
  // A refusal log must never keep a process alive.
  timer.unref();

  return {
    admit(remoteAddress) {
      const now = clock.now();
      const [key, window] = windowOf(remoteAddress ?? 'an unknown address', now);
      if (now - window.startedAt >= limits.windowMs) {
        summarise(key, window);
        Object.assign(window, { startedAt: now, logged: 0, suppressed: 0 });
      }
      if (window.logged < limits.linesPerWindow) {
        window.logged += 1;
        return true;
      }
      window.suppressed += 1;
      options.suppressed.inc();
      return false;
    },
    sweep: () => sweep(false),
    close() {
      clearInterval(timer);
      sweep(true);
    },
    get size() {
      return windows.size;
    },
  };
}
