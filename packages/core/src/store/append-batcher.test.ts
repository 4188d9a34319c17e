import { describe, expect, it } from 'vitest';
import { AppendBatcher } from './append-batcher.js';

describe('AppendBatcher', () => {
  it('writes what arrives in the same moment together, and what arrives during a write in the next one', async () => {
    const writes: number[][] = [];
    let release: () => void = () => {};
    const batcher = new AppendBatcher<number>(async (items) => {
      writes.push(items);
      if (writes.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = [batcher.add(1), batcher.add(2), batcher.add(3)];
    await new Promise((r) => setImmediate(r));
    const second = [batcher.add(4), batcher.add(5)];
    release();
    await Promise.all([...first, ...second]);
    expect(writes).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('fails every item of a failed write, and only those', async () => {
    let calls = 0;
    const batcher = new AppendBatcher<string>(async () => {
      if (++calls === 1) throw new Error('disk full');
    });
    const failed = [batcher.add('a'), batcher.add('b')].map((p) => p.then(() => 'written', (e: Error) => e.message));
    expect(await Promise.all(failed)).toEqual(['disk full', 'disk full']);
    await expect(batcher.add('c')).resolves.toBeUndefined();
  });

  it('never writes more than its batch size at once', async () => {
    const sizes: number[] = [];
    const batcher = new AppendBatcher<number>(async (items) => void sizes.push(items.length), 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
