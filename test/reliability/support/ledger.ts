import { appendFileSync } from 'node:fs';

/**
 * Records how many acknowledged items a test found missing. run.mjs sums these into the
 * summary's "lost N"; call it before asserting, so a failing test still reports what it lost.
 */
export function recordLost(lost: number, what: string): void {
  const ledger = process.env.MESHAUTH_RELIABILITY_LEDGER;
  if (ledger) appendFileSync(ledger, `${JSON.stringify({ lost, what })}\n`);
}
