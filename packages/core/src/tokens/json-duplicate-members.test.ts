import { describe, expect, it } from 'vitest';
import { hasDuplicateMember } from './json-duplicate-members.js';

describe('hasDuplicateMember', () => {
  it('accepts objects whose names are unique at each level', () => {
    expect(hasDuplicateMember('{"a":1,"b":{"a":2,"c":[{"a":3},{"a":4}]},"s":"\\"a\\":1,\\"a\\""}')).toBe(false);
    expect(hasDuplicateMember('{}')).toBe(false);
    expect(hasDuplicateMember('[{"a":1},{"a":1}]')).toBe(false);
    // Strings in an array are values, not member names.
    expect(hasDuplicateMember('["a","a",{"a":1}]')).toBe(false);
  });

  it('finds a duplicate at the top level, nested, and behind escapes', () => {
    expect(hasDuplicateMember('{"alg":"none","kid":"1","alg":"RS256"}')).toBe(true);
    expect(hasDuplicateMember('{"Tags":{"k":["a"],"k":["b"]}}')).toBe(true);
    expect(hasDuplicateMember('{"Name":"a","N\\u0061me":"b"}')).toBe(true);
    expect(hasDuplicateMember('{"a":[{"x":1}],"b":{},"a":2}')).toBe(true);
  });
});
