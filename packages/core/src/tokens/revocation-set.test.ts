import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JtiFilter } from './jti-filter.js';
import { RevocationSet } from './revocation-set.js';
import { readUuids, writeUuid } from './uuid-jti.js';

describe('RevocationSet', () => {
  // A filter that wrongly says "certainly not" would let a revoked token through: the set must
  // answer exactly like a plain Set whatever the sequence of adds, deletes and clears.
  it('answers exactly like a plain Set through any adds, deletes and clears (filter growth and rebuilds included)', () => {
    // Canonical UUIDs (held as 16 bytes), their uppercase forms (held as strings: another jti) and others.
    const id = fc.oneof(fc.constantFrom('a', 'b', 'jti-1', '', '00000000-0000-0000-0000-000000000000'), fc.string({ maxLength: 40 }), fc.uuid(), fc.uuid().map((u) => u.toUpperCase()));
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('add' as const), ids: fc.array(id, { maxLength: 60 }) }), weight: 4 },
      { arbitrary: fc.record({ kind: fc.constant('delete' as const), ids: fc.array(id, { maxLength: 10 }), deleteHeld: fc.nat({ max: 40 }) }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('clear' as const) }), weight: 1 },
      // Canonical UUIDs given packed, as a snapshot's chunk carries them: the same as adding their strings.
      { arbitrary: fc.record({ kind: fc.constant('addPacked' as const), ids: fc.array(fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000')), { maxLength: 20 }) }), weight: 2 },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.array(id, { maxLength: 50 }), fc.integer({ min: 1, max: 8 }), (ops, probes, minFilterCapacity) => {
        // A tiny filter, so growth and deletion rebuilds happen all along the sequence.
        const set = new RevocationSet(minFilterCapacity);
        const reference = new Set<string>();
        for (const o of ops) {
          if (o.kind === 'add') for (const x of o.ids) (set.add(x), reference.add(x));
          else if (o.kind === 'addPacked') {
            const bytes = new Uint8Array(o.ids.length * 16);
            o.ids.forEach((x, i) => writeUuid(x, bytes, i * 16));
            set.addPacked(bytes);
            for (const x of readUuids(bytes)) reference.add(x);
          } else if (o.kind === 'clear') (set.clear(), reference.clear());
          else {
            // Delete some ids actually held (the case that leaves stale bits), and some never added.
            const held = [...reference].slice(0, o.deleteHeld);
            for (const x of [...held, ...o.ids]) (set.delete(x), reference.delete(x));
          }
          expect(set.size).toBe(reference.size);
          for (const x of [...reference].slice(-20)) expect(set.has(x)).toBe(true);
        }
        for (const x of [...probes, ...reference]) expect(set.has(x)).toBe(reference.has(x));
        expect(new Set(set.values())).toEqual(reference);
        // UUIDs (held as words) and other ids (held as strings) merged into one ascending run.
        expect([...set.sortedValues()]).toEqual([...reference].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('lists ids in ascending string order, UUIDs merged among the others, or packed apart from them', async () => {
    const set = new RevocationSet();
    const ids = ['jti-1', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D', '00000000-0000-0000-0000-000000000000', '5', 'zz', 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', '', '9a'];
    for (const id of ids) set.add(id);
    const packed = [...(await set.sortedPackedUuidsInSlices(async () => {}, 2))];
    expect(packed.map((slice) => readUuids(slice))).toEqual([
      ['00000000-0000-0000-0000-000000000000', 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'],
      ['ffffffff-ffff-ffff-ffff-ffffffffffff'],
    ]);
    expect(set.sortedOthers()).toEqual(['', '5', '9a', 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D', 'jti-1', 'zz']);
    expect([...set.sortedValues()]).toEqual(['', '00000000-0000-0000-0000-000000000000', '5', '9a', 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D', 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'jti-1', 'zz']);
  });

  it('holds a hundred thousand ids (a tenth under pnpm test:mutation), every one found, strangers refused', () => {
    const set = new RevocationSet();
    const held = Array.from({ length: 100_000 * Number(process.env.MESHAUTH_TEST_SCALE ?? 1) }, () => randomUUID());
    for (const jti of held) set.add(jti);
    expect(held.every((jti) => set.has(jti))).toBe(true);
    expect(Array.from({ length: 10_000 }, () => randomUUID()).some((jti) => set.has(jti))).toBe(false);
  });
});

describe('RevocationSet and the case of UUID jtis', () => {
  it('refuses a revoked uppercase jti, and neither case stands in for the other (jtis compare as strings)', () => {
    const lower = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    const upper = lower.toUpperCase();
    const mixed = 'A1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';
    const set = new RevocationSet();
    set.add(upper);
    expect(set.has(upper)).toBe(true);
    expect(set.has(lower)).toBe(false);
    expect(set.has(mixed)).toBe(false);
    set.add(lower);
    set.delete(upper);
    expect(set.has(upper)).toBe(false);
    expect(set.has(lower)).toBe(true);
    expect([...set.values()]).toEqual([lower]);
  });
});

describe('JtiFilter', () => {
  it('never says "certainly not" for an id it was given, and says it for nearly every other', () => {
    const filter = new JtiFilter(50_000);
    const added = Array.from({ length: 50_000 }, () => randomUUID());
    for (const jti of added) filter.add(jti);
    expect(added.every((jti) => filter.mayContain(jti))).toBe(true);
    const strangers = Array.from({ length: 50_000 }, () => randomUUID());
    const falsePositives = strangers.filter((jti) => filter.mayContain(jti)).length;
    // 12 bits and 4 probes per id: about 0.6% expected at capacity; 2% would mean a broken hash.
    expect(falsePositives / strangers.length).toBeLessThan(0.02);
  });
});
