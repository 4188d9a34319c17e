import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readUuids, uuidFromWords, uuidWords } from './uuid-jti.js';
import { UuidSet } from './uuid-set.js';

const words = (jti: string): [number, number, number, number] => {
  const out = new Uint32Array(4);
  if (!uuidWords(jti, out)) throw new Error(`not a canonical UUID: ${jti}`);
  return [out[0]!, out[1]!, out[2]!, out[3]!];
};

describe('UuidSet', () => {
  it('answers like a plain Set through adds and deletes, across growth and rebuilds of deleted slots', () => {
    // Few distinct keys, many operations: deleted slots pile up and force same-size rebuilds.
    const key = fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff'));
    const op = fc.record({ add: fc.boolean(), jti: key });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (ops, capacity) => {
        const set = new UuidSet(capacity);
        const reference = new Set<string>();
        for (const { add, jti } of ops) {
          if (add) expect(set.add(...words(jti))).toBe(!reference.has(jti)), reference.add(jti);
          else expect(set.delete(...words(jti))).toBe(reference.delete(jti));
          expect(set.size).toBe(reference.size);
        }
        for (const { jti } of ops) expect(set.has(...words(jti))).toBe(reference.has(jti));
        expect(new Set(set.values())).toEqual(reference);
        // In key order, which is also the strings' order.
        expect([...set.sortedValues()]).toEqual([...reference].sort());
        let visited = 0;
        set.forEach((w0, w1, w2, w3, hash) => {
          visited++;
          expect(hash).toBe(UuidSet.hash(w0, w1, w2, w3));
        });
        expect(visited).toBe(reference.size);
      }),
      { numRuns: 200 },
    );
  });

  it('finds, keeps single and deletes a key that sits in the table\'s first slot', () => {
    // A new set has 16 slots: a key whose hash starts with four zero bits goes to slot 0.
    let w0 = 0;
    while (UuidSet.hash(w0, 0, 0, 0) >>> 28 !== 0) w0++;
    const set = new UuidSet(1);
    expect(set.add(w0, 0, 0, 0)).toBe(true);
    expect(set.add(w0, 0, 0, 0)).toBe(false);
    expect(set.size).toBe(1);
    expect(set.delete(w0, 0, 0, 0)).toBe(true);
    expect(set.has(w0, 0, 0, 0)).toBe(false);
    expect(set.size).toBe(0);
  });

  it('probes from the last slot on to the first, and finds both keys after either is deleted', () => {
    // 16 slots: keys whose hash starts with four one bits have the last slot as their home.
    const last: number[] = [];
    for (let w0 = 0; last.length < 2; w0++) if (UuidSet.hash(w0, 0, 0, 0) >>> 28 === 15) last.push(w0);
    for (const gone of [0, 1]) {
      const set = new UuidSet(1);
      for (const w0 of last) expect(set.add(w0, 0, 0, 0)).toBe(true);
      expect(last.map((w0) => set.has(w0, 0, 0, 0))).toEqual([true, true]);
      expect(set.delete(last[gone]!, 0, 0, 0)).toBe(true);
      expect(last.map((w0) => set.has(w0, 0, 0, 0))).toEqual([gone !== 0, gone !== 1]);
    }
  });

  it('takes as many slots as a count needs, not the next power of two', () => {
    // 17 bytes a slot: a million sized for at once in 1.43 million slots, 24.3 MB.
    const set = new UuidSet(1_000_000);
    expect(set.bytes).toBe(Math.ceil(1_000_000 / 0.7) * 17);
  });

  it('keeps keys apart that differ in one word only, whichever word it is', () => {
    for (let word = 0; word < 4; word++) {
      const set = new UuidSet();
      const key = (i: number): [number, number, number, number] => {
        const w: [number, number, number, number] = [0x01890000, 0x12345678, 0x70000000, 0x80000000];
        w[word] = (w[word]! + i) >>> 0;
        return w;
      };
      for (let i = 0; i < 2_000; i++) expect(set.add(...key(i))).toBe(true);
      expect(set.size).toBe(2_000);
      for (let i = 0; i < 2_000; i++) expect(set.has(...key(i))).toBe(true);
      expect(set.has(...key(2_000))).toBe(false);
    }
  });

  it('rebuilds at the same size when deleted slots fill it, and keeps finding what it holds', () => {
    const set = new UuidSet(1);
    set.add(7, 7, 7, 7);
    // Each key added and deleted again leaves a deleted slot behind: 16 slots fill many times over.
    for (let i = 0; i < 500; i++) {
      set.add(i, 1, 2, 3);
      set.delete(i, 1, 2, 3);
    }
    for (let i = 0; i < 8; i++) set.add(i, 9, 9, 9);
    expect(set.size).toBe(9);
    expect([...set.values()].sort()).toEqual([uuidFromWords(7, 7, 7, 7), ...Array.from({ length: 8 }, (_, i) => uuidFromWords(i, 9, 9, 9))].sort());
    for (let i = 0; i < 500; i++) expect(set.has(i, 1, 2, 3)).toBe(false);
    expect(set.has(7, 7, 7, 7)).toBe(true);
  });

  it('keeps UUIDs that differ only in their leading timestamp (UUIDv7) apart', () => {
    const set = new UuidSet();
    for (let i = 0; i < 50_000; i++) set.add(0x01890000 + (i >>> 16), (i & 0xffff) << 16, 0x70000000, 0x80000000);
    expect(set.size).toBe(50_000);
    expect(set.has(0x01890000, 0, 0x70000000, 0x80000000)).toBe(true);
    expect(set.has(0x01890000, 0, 0x70000000, 0x80000001)).toBe(false);
  });

  it('lists keys in order when many share their top 16 bits (UUIDv7 issued within weeks), and when the set is empty', async () => {
    expect([...new UuidSet().sortedValues()]).toEqual([]);
    expect([...(await new UuidSet().sortedPackedInSlices(async () => {}, 10))]).toEqual([]);
    const set = new UuidSet();
    const jtis: string[] = [];
    // Keys 0 and 1 differ only in their last word: the order reaches the whole key.
    for (let i = 0; i < 20_000; i++) {
      const w = [0x01890000 + ((i * 7919) % 3), (i * 2654435761) >>> 0, 0x70000000 + (i % 5), (i * 40503) >>> 0] as const;
      set.add(...w);
      jtis.push(uuidFromWords(...w));
    }
    set.add(0, 0, 0, 1);
    set.add(0, 0, 0, 0);
    const sorted = [...set.sortedValues()];
    expect(sorted.slice(0, 2)).toEqual(['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000001']);
    expect(sorted.slice(2)).toEqual([...new Set(jtis)].sort());
  });

  it('packs the same order into slices of the size asked, pausing between ranges of a big table', async () => {
    const set = new UuidSet();
    const words = new Uint32Array(4);
    for (let i = 0; i < 300_000; i++) {
      crypto.getRandomValues(words);
      set.add(words[0]!, words[1]!, words[2]!, words[3]!);
    }
    let pauses = 0;
    const slices = [...(await set.sortedPackedInSlices(async () => void pauses++, 7_000))];
    expect(pauses).toBeGreaterThan(1);
    // 300,000 = 42 slices of 7,000 and one of 6,000.
    expect(slices.map((slice) => slice.length / 16)).toEqual([...Array<number>(42).fill(7_000), 6_000]);
    const sliced = slices.flatMap((slice) => readUuids(slice));
    expect(sliced).toEqual([...set.sortedValues()]);
    expect(sliced).toHaveLength(set.size);
    expect(sliced.every((jti, i) => i === 0 || sliced[i - 1]! < jti)).toBe(true);
  });
});

