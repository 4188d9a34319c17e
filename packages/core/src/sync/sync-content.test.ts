import { describe, expect, it } from 'vitest';
import { emptyContent } from './sync-content.js';

describe('emptyContent', () => {
  it('is a batch content with nothing in it, a new one each time', () => {
    const content = emptyContent();
    expect(content).toEqual({ keys: [], removedKeySerials: [], addedRevocations: [], removedJtis: [] });
    content.removedJtis.push('x');
    expect(emptyContent().removedJtis).toEqual([]);
  });
});
