import { UUID_BYTES, uuidFromWords } from './uuid-jti.js';

/** Slots used (deleted ones included) at most this share of the table before it doubles. */
const MAX_LOAD = 0.75;
/** The share a set sized for a known count starts at: room for some more before it doubles. */
const SIZED_LOAD = 0.7;
const HASHES = 2 ** 32;
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;
/** Buckets of the key-order sort: one per value of a key's top 16 bits. */
const BUCKETS = 65_536;
/** Slots the counting sort scans between two pauses (a few milliseconds). */
const SORT_RANGE_SLOTS = 1 << 18;

/**
 * A set of 128-bit keys (UUID jtis as four 32-bit words) in two flat arrays: open addressing with
 * linear probing, 17 bytes a slot. A million UUIDs take 24 to 26 MB here, against well over 100 MB as
 * strings in a `Set` (a heap string of 36 characters and a hash-table entry each), and the GC has
 * two objects to trace instead of a million.
 */
export class UuidSet {
  private words: Uint32Array;
  private state: Uint8Array;
  private slots: number;
  /** slots / 2^32: a hash's home slot is `floor(hash * scale)`, so the table can be any size. */
  private scale: number;
  private used = 0;
  size = 0;

  /**
   * Sized for `capacity` keys, in as many slots as that takes: a million (a snapshot says how many)
   * fit in 1.43 million slots, 24 MB, where the next power of two took 2.1 million, 36 MB.
   */
  constructor(capacity = 1024) {
    const slots = Math.max(16, Math.ceil(capacity / SIZED_LOAD));
    this.words = new Uint32Array(slots * 4);
    this.state = new Uint8Array(slots);
    this.slots = slots;
    this.scale = slots / HASHES;
  }

  /** The table's memory: what holding these keys costs. */
  get bytes(): number {
    return this.words.byteLength + this.state.byteLength;
  }

  /** A well-spread 32-bit hash of the key (murmur3's finalizer over the words): UUIDv7's leading timestamp spreads too. */
  static hash(w0: number, w1: number, w2: number, w3: number): number {
    let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ w1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ w2, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ w3, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  has(w0: number, w1: number, w2: number, w3: number, hash = UuidSet.hash(w0, w1, w2, w3)): boolean {
    return this.find(w0, w1, w2, w3, hash) >= 0;
  }

  /** True when added, false when already there. */
  add(w0: number, w1: number, w2: number, w3: number, hash = UuidSet.hash(w0, w1, w2, w3)): boolean {
    if (this.find(w0, w1, w2, w3, hash) >= 0) return false;
    if (this.used + 1 > this.slots * MAX_LOAD) this.resize(this.size + 1 > this.slots * MAX_LOAD * 0.5 ? this.slots * 2 : this.slots);
    let slot = this.home(hash);
    while (this.state[slot] === FULL) slot = this.next(slot);
    if (this.state[slot] === EMPTY) this.used++;
    this.put(slot, w0, w1, w2, w3);
    this.size++;
    return true;
  }

  /** True when it was there. */
  delete(w0: number, w1: number, w2: number, w3: number, hash = UuidSet.hash(w0, w1, w2, w3)): boolean {
    const slot = this.find(w0, w1, w2, w3, hash);
    if (slot < 0) return false;
    this.state[slot] = DELETED;
    this.size--;
    return true;
  }

  /** Calls `visit` with each key's words and hash (a filter rebuilt from the set). */
  forEach(visit: (w0: number, w1: number, w2: number, w3: number, hash: number) => void): void {
    const { words, state } = this;
    for (let slot = 0; slot < state.length; slot++) {
      if (state[slot] !== FULL) continue;
      const i = slot * 4;
      visit(words[i]!, words[i + 1]!, words[i + 2]!, words[i + 3]!, UuidSet.hash(words[i]!, words[i + 1]!, words[i + 2]!, words[i + 3]!));
    }
  }

  /** Each key as its canonical string. */
  *values(): IterableIterator<string> {
    const { words, state } = this;
    for (let slot = 0; slot < state.length; slot++) {
      if (state[slot] !== FULL) continue;
      const i = slot * 4;
      yield uuidFromWords(words[i]!, words[i + 1]!, words[i + 2]!, words[i + 3]!);
    }
  }

  /**
   * Each key as its canonical string, in ascending order: also the strings' order, since canonical
   * UUIDs are fixed-width lowercase hex. A bulk write in key order fills the store's B-tree pages
   * one after another instead of touching a random page per row.
   *
   * A counting sort on the top 16 bits places every key in its bucket (random UUIDs spread over all
   * 65,536 of them, a few keys each); each bucket is sorted on the whole key only when the walk
   * reaches it, so a caller that lets the event loop run between slices never waits for one big
   * sort. UUIDv7 keys issued within weeks share their top bits: their bucket is large, and sorted
   * all the same. The set must not change while the walk is under way.
   */
  sortedValues(): IterableIterator<string> {
    const sort = this.countingSort();
    let step = sort.next();
    while (!step.done) step = sort.next();
    return this.walk(step.value);
  }

  /**
   * The same order, the keys packed (16 bytes each: the words big-endian, as the sync wire carries
   * them) `perSlice` to a slice: a bulk write hands each slice to the store whole, with no string
   * per key. `pause` is awaited between ranges of the counting sort's passes over the table: done
   * at once, they held the event loop for 50 to 60 ms at a million keys.
   */
  async sortedPackedInSlices(pause: () => Promise<void>, perSlice: number): Promise<IterableIterator<Uint8Array>> {
    const sort = this.countingSort();
    let step = sort.next();
    while (!step.done) {
      await pause();
      step = sort.next();
    }
    return this.packedWalk(step.value, perSlice);
  }

  /**
   * The counting sort's two passes over the table, suspended (a bare `yield`) after each range of
   * `SORT_RANGE_SLOTS` slots; returns the slots bucket by bucket, bucket b from `starts[b]` to
   * `starts[b + 1]` of `order`.
   */
  private *countingSort(): Generator<undefined, { starts: Uint32Array; order: Uint32Array }> {
    const { words, state } = this;
    const starts = new Uint32Array(BUCKETS + 1);
    for (let from = 0; from < state.length; from += SORT_RANGE_SLOTS) {
      const to = Math.min(state.length, from + SORT_RANGE_SLOTS);
      for (let slot = from; slot < to; slot++) if (state[slot] === FULL) starts[(words[slot * 4]! >>> 16) + 1]!++;
      yield;
    }
    for (let b = 1; b <= BUCKETS; b++) starts[b]! += starts[b - 1]!;
    const order = new Uint32Array(this.size);
    const next = starts.slice(0, BUCKETS);
    for (let from = 0; from < state.length; from += SORT_RANGE_SLOTS) {
      const to = Math.min(state.length, from + SORT_RANGE_SLOTS);
      for (let slot = from; slot < to; slot++) if (state[slot] === FULL) order[next[words[slot * 4]! >>> 16]!++] = slot;
      if (to < state.length) yield;
    }
    return { starts, order };
  }

  /** Each bucket's slots, sorted on the whole key only when the walk reaches the bucket. */
  private *sortedBuckets({ starts, order }: { starts: Uint32Array; order: Uint32Array }): IterableIterator<Uint32Array> {
    const { words } = this;
    const compare = (a: number, b: number): number => {
      for (let w = 0; w < 4; w++) {
        const x = words[a * 4 + w]!;
        const y = words[b * 4 + w]!;
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    };
    for (let b = 0; b < BUCKETS; b++) {
      const bucket = order.subarray(starts[b]!, starts[b + 1]!);
      if (bucket.length > 1) bucket.sort(compare);
      if (bucket.length > 0) yield bucket;
    }
  }

  private *walk(sorted: { starts: Uint32Array; order: Uint32Array }): IterableIterator<string> {
    const { words } = this;
    for (const bucket of this.sortedBuckets(sorted)) {
      for (const slot of bucket) {
        const i = slot * 4;
        yield uuidFromWords(words[i]!, words[i + 1]!, words[i + 2]!, words[i + 3]!);
      }
    }
  }

  private *packedWalk(sorted: { starts: Uint32Array; order: Uint32Array }, perSlice: number): IterableIterator<Uint8Array> {
    const { words } = this;
    let slice = new Uint8Array(Math.min(perSlice, this.size) * UUID_BYTES);
    let view = new DataView(slice.buffer);
    let at = 0;
    let left = this.size;
    for (const bucket of this.sortedBuckets(sorted)) {
      for (const slot of bucket) {
        const i = slot * 4;
        view.setUint32(at, words[i]!);
        view.setUint32(at + 4, words[i + 1]!);
        view.setUint32(at + 8, words[i + 2]!);
        view.setUint32(at + 12, words[i + 3]!);
        at += UUID_BYTES;
        left--;
        if (at === slice.length) {
          yield slice;
          // A new buffer each slice: the store may still hold the last one (an awaited query).
          slice = new Uint8Array(Math.min(perSlice, left) * UUID_BYTES);
          view = new DataView(slice.buffer);
          at = 0;
        }
      }
    }
  }

  private home(hash: number): number {
    return Math.floor(hash * this.scale);
  }

  /** Linear probing, wrapping at the end. */
  private next(slot: number): number {
    return slot + 1 === this.slots ? 0 : slot + 1;
  }

  private find(w0: number, w1: number, w2: number, w3: number, hash: number): number {
    const { words, state } = this;
    for (let slot = this.home(hash); ; slot = this.next(slot)) {
      const s = state[slot];
      if (s === EMPTY) return -1;
      const i = slot * 4;
      if (s === FULL && words[i] === w0 && words[i + 1] === w1 && words[i + 2] === w2 && words[i + 3] === w3) return slot;
    }
  }

  private put(slot: number, w0: number, w1: number, w2: number, w3: number): void {
    const i = slot * 4;
    this.words[i] = w0;
    this.words[i + 1] = w1;
    this.words[i + 2] = w2;
    this.words[i + 3] = w3;
    this.state[slot] = FULL;
  }

  /** Rebuilds into `slots` slots: larger when full, the same size when only deleted slots filled it. */
  private resize(slots: number): void {
    const old = this.words;
    const oldState = this.state;
    this.words = new Uint32Array(slots * 4);
    this.state = new Uint8Array(slots);
    this.slots = slots;
    this.scale = slots / HASHES;
    this.used = this.size;
    for (let from = 0; from < oldState.length; from++) {
      if (oldState[from] !== FULL) continue;
      const i = from * 4;
      const w0 = old[i]!;
      const w1 = old[i + 1]!;
      const w2 = old[i + 2]!;
      const w3 = old[i + 3]!;
      let slot = this.home(UuidSet.hash(w0, w1, w2, w3));
      while (this.state[slot] === FULL) slot = this.next(slot);
      this.put(slot, w0, w1, w2, w3);
    }
  }
}
