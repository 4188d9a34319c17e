import { describe, expect, it } from 'vitest';
import { collectList, parseKeyValues, parseTags } from './option-values.js';

describe('option values', () => {
  it('collects repeatable and comma-separated list flags', () => {
    expect(collectList('team-b', collectList('team-a'))).toEqual(['team-a', 'team-b']);
    expect(collectList('cp, ingress')).toEqual(['cp', 'ingress']);
  });

  it('turns --tag k=v into the token API shape {k: [v]}', () => {
    expect(parseTags(['kuma.io/service=backend'])).toEqual({ 'kuma.io/service': ['backend'] });
  });

  it('accumulates values for a repeated key and splits v1,v2', () => {
    expect(parseTags(['version=v1', 'version=v2,v3', 'version=v1', 'zone=east'])).toEqual({
      version: ['v1', 'v2', 'v3'],
      zone: ['east'],
    });
  });

  it('refuses a tag without a key or a value', () => {
    expect(() => parseTags(['noequals'])).toThrow('--tag noequals: expected key=value');
    expect(() => parseTags(['=v'])).toThrow(/expected key=value/);
    expect(() => parseTags(['k='])).toThrow(/value is empty/);
  });

  it('splits key=value on the first = only', () => {
    expect(parseKeyValues(['token=a=b', 'x=1'], '--auth-conf')).toEqual({ token: 'a=b', x: '1' });
  });
});
