import type { Logger } from '../observability/logger.js';
import { MeshAuthError } from '../errors.js';

/**
 * Runs a started daemon until SIGTERM/SIGINT, then stops it cleanly. A start failure prints one
 * line naming the problem (no stack for configuration errors) and exits 1.
 */
export async function runUntilSignal(name: string, start: () => Promise<{ close(): Promise<void> }>, logger: Logger): Promise<void> {
  // Listening before the start: a signal that arrives while it runs (or just after the ready
  // line) would otherwise meet the default action and kill the process without a clean stop.
  let running: { close(): Promise<void> } | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!running) {
      // Nothing is serving yet (a start may wait long for its database): stop at once, as the
      // default action would, but say so.
      logger.info({ signal }, `${name} stopping before it was ready`);
      process.exit(0);
    }
    logger.info({ signal }, `${name} stopping`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, `${name} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    running = await start();
  } catch (error) {
    if (error instanceof MeshAuthError || (error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`${name}: ${(error as Error).message}\n`);
    } else {
      logger.fatal({ err: error }, `${name} failed to start`);
    }
    process.exit(1);
  }
}
