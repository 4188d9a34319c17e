import type { Daemon } from '../../support/daemon.js';
import { waitFor } from '../../support/wait-for.js';

/** Parsed log lines a daemon printed after `mark` (an index into its output). */
export function linesSince(daemon: Daemon, mark: number): Record<string, unknown>[] {
  return daemon.output.slice(mark).flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** Waits for a log line printed after `mark` that matches. */
export async function waitForLogSince(daemon: Daemon, mark: number, what: string, match: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000) {
  let found: Record<string, unknown> | undefined;
  await waitFor(what, () => (found = linesSince(daemon, mark).find(match)) !== undefined, timeoutMs);
  return found!;
}
