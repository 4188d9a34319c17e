import { UUID_BYTES, type Clock, type GlobalMessage__Output, type Logger } from '@meshauth/core';

type Chunk = NonNullable<GlobalMessage__Output['batch']>;

/** Between two progress lines of one batch. */
const PROGRESS_EVERY_MS = 1_000;

/**
 * What an operator sees while a zone takes a big batch from global (a snapshot of a million
 * revocations is tens of chunks): a line when its first chunk arrives, one a second after that
 * (chunks, items, items per second), and one when it is applied (counts, duration). One-chunk
 * deltas, every live change, stay at debug.
 */
export class BatchProgress {
  private batch: { kind: string; version: number; startedAt: number; loggedAt: number; chunks: number; keys: number; revocations: number } | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  chunk(chunk: Chunk): void {
    const now = this.clock.now();
    if (chunk.chunk === 0 || !this.batch) {
      this.batch = { kind: chunk.kind === 'KIND_SNAPSHOT' ? 'snapshot' : 'delta', version: chunk.toVersion, startedAt: now, loggedAt: now, chunks: 0, keys: 0, revocations: 0 };
    }
    const batch = this.batch;
    batch.chunks++;
    batch.keys += chunk.keys.length + chunk.removedKeySerials.length;
    // UUID jtis travel packed, 16 bytes each, beside the string ones.
    batch.revocations +=
      chunk.addedRevocations.length + chunk.removedJtis.length + (chunk.addedUuidJtis.length + chunk.removedUuidJtis.length) / UUID_BYTES;
    if (chunk.last) return;
    if (chunk.chunk === 0 || now - batch.loggedAt >= PROGRESS_EVERY_MS) {
      batch.loggedAt = now;
      this.logger.info(this.fields(now), `sync: receiving ${batch.kind}`);
    }
  }

  /** The batch was applied: one line for a snapshot or a batch of several chunks. */
  applied(): void {
    const batch = this.batch;
    this.batch = undefined;
    if (!batch) return;
    const now = this.clock.now();
    if (batch.kind === 'snapshot' || batch.chunks > 1) this.logger.info({ ...this.fields(now, batch), durationMs: now - batch.startedAt }, `sync: ${batch.kind} applied`);
  }

  /** The batch was refused or the stream ended: nothing to report as applied. */
  abandon(): void {
    this.batch = undefined;
  }

  private fields(now: number, batch = this.batch!): Record<string, number> {
    const items = batch.keys + batch.revocations;
    const seconds = (now - batch.startedAt) / 1000;
    return { version: batch.version, chunks: batch.chunks, items, keys: batch.keys, revocations: batch.revocations, itemsPerSecond: seconds > 0 ? Math.round(items / seconds) : items };
  }
}
