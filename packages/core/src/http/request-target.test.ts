import { describe, expect, it } from 'vitest';
import { shownPath, MAX_SHOWN_PATH_CHARS, parseRequestTarget } from './request-target.js';

describe('parseRequestTarget', () => {
  it.each([
    ['/who-am-i', { authority: undefined, path: '/who-am-i' }],
    ['/who-am-i?token=abc', { authority: undefined, path: '/who-am-i' }],
    ['http://127.0.0.1:5681/who-am-i?x=1', { authority: '127.0.0.1:5681', path: '/who-am-i' }],
    ['HTTPS://[::1]:5682/a/b', { authority: '[::1]:5682', path: '/a/b' }],
    ['http://localhost', { authority: 'localhost', path: '/' }],
    ['http://localhost?x=/evil', { authority: 'localhost', path: '/' }],
  ])('%s', (target, expected) => {
    expect(parseRequestTarget(target)).toEqual(expected);
  });

  it.each(['*', 'ftp://localhost/x', 'http:///x', 'http://localhost/x#frag', 'localhost/x', ''])('refuses %j', (target) => {
    expect(parseRequestTarget(target)).toBeUndefined();
  });

});

describe('shownPath', () => {
  it('keeps the path and drops the query string and an absolute-form authority', () => {
    expect(shownPath('/who-am-i?token=eyJhbGciOi')).toBe('/who-am-i');
    expect(shownPath('http://evil.example/who-am-i?token=eyJhbGciOi')).toBe('/who-am-i');
    expect(shownPath('*')).toBe('(not a path)');
  });

  it(`cuts a long path to ${MAX_SHOWN_PATH_CHARS} characters`, () => {
    const path = shownPath(`/${'a'.repeat(20_000)}?q`);
    expect(path).toBe(`/${'a'.repeat(MAX_SHOWN_PATH_CHARS - 1)}…`);
  });
});
