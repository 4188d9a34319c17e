import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Collects garbage now, once bulk work is done. A million-revocation import or snapshot leaves a
 * few hundred MB of dead strings and buffers behind (the request body, its base64, the decoded
 * list); V8 only collects the large-object space in a full collection, which an idle plane may not
 * run for a long time, so the process would keep that memory resident. One full collection frees
 * it: the live heap is then a few typed arrays, so it takes milliseconds.
 *
 * Node exposes `gc` only behind `--expose-gc`; the flag is set for a fresh context to pick up, the
 * documented way to get the function without changing how every daemon is started.
 */
let collect: (() => void) | undefined;

function collector(): () => void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/**
 * Runs a full collection shortly, once the request that did the bulk work has been answered (its
 * body is garbage only then); several calls close together run it once.
 */
export function releaseGarbage(): void {
  if (pending !== undefined) return;
  pending = setTimeout(() => {
    pending = undefined;
    collector()();
  }, AFTER_MS);
  pending.unref();
}

/** Long enough for the response to go out and the request to be dropped. */
const AFTER_MS = 20;
let pending: NodeJS.Timeout | undefined;
