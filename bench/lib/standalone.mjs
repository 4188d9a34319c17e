import { pathToFileURL } from 'node:url';
import { benchConfig } from './config.mjs';

/** The line a benchmark prints its result on, so the runner can find it among other output. */
export const RESULT_MARKER = 'BENCH_RESULT ';

/**
 * Lets a benchmark file run on its own (`node bench/verify-cold.mjs`) or in a child of the runner:
 * progress goes to stderr, the result to stdout as one marked JSON line.
 */
export async function runIfMain(moduleUrl, run) {
  if (!process.argv[1] || pathToFileURL(process.argv[1]).href !== moduleUrl) return;
  try {
    const result = await run(benchConfig);
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  }
}

export function progress(name, message) {
  process.stderr.write(`[${name}] ${message}\n`);
}
