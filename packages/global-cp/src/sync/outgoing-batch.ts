import type { EncodedGlobalMessage } from '@meshauth/core';

/**
 * One batch's encoded chunks, in order, as zone streams write them: complete from the start (a
 * live change, a delta), or still growing while it is encoded (a snapshot read from the store page
 * by page). A stream writes the chunks there are and waits for the next, so a million revocations'
 * first chunks are on the wire, and being applied by the zone, while global still reads the rest.
 * Every stream sending the same snapshot shares the one encoding.
 */
export class OutgoingBatch {
  readonly chunks: EncodedGlobalMessage[] = [];
  /** Every chunk is here, the last one marked. */
  complete = false;
  /** Why encoding stopped: the chunks written so far are a batch the zone never applies. */
  error: Error | undefined;
  private readonly waiting = new Set<() => void>();

  static of(chunks: readonly EncodedGlobalMessage[]): OutgoingBatch {
    const batch = new OutgoingBatch();
    batch.chunks.push(...chunks);
    batch.complete = true;
    return batch;
  }

  /** Whether more may come: neither complete nor failed. */
  get growing(): boolean {
    return !this.complete && this.error === undefined;
  }

  push(chunks: readonly EncodedGlobalMessage[]): void {
    if (chunks.length === 0) return;
    this.chunks.push(...chunks);
    this.wake();
  }

  finish(chunks: readonly EncodedGlobalMessage[]): void {
    this.chunks.push(...chunks);
    this.complete = true;
    this.wake();
  }

  fail(error: Error): void {
    this.error = error;
    this.wake();
  }

  /** Calls `listener` once, at the next chunk, the end or a failure. */
  whenChanged(listener: () => void): void {
    this.waiting.add(listener);
  }

  private wake(): void {
    const listeners = [...this.waiting];
    this.waiting.clear();
    for (const listener of listeners) listener();
  }
}
