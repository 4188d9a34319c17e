import { describe, expect, it } from 'vitest';
import { isLocalhostAdminRequest, type RequestOrigin } from './localhost-admin.js';

const local = (headers: RequestOrigin['headers'] = {}, remoteAddress: string | undefined = '127.0.0.1'): RequestOrigin => ({
  remoteAddress,
  headers: { host: 'localhost:5681', ...headers },
});

describe('isLocalhostAdminRequest', () => {
  it.each([
    ['curl from 127.0.0.1', local()],
    ['IPv6 loopback', local({ host: '[::1]:5681' }, '::1')],
    ['IPv4-mapped loopback', local({ host: '127.0.0.1:5681' }, '::ffff:127.0.0.1')],
    ['another 127/8 address', local({ host: '127.0.0.2' }, '127.0.0.2')],
    ['Host without port', local({ host: 'LOCALHOST' })],
    ['same-origin browser request', local({ 'sec-fetch-site': 'same-origin', origin: 'http://localhost:5681' })],
    ['typed-in URL', local({ 'sec-fetch-site': 'none' })],
  ])('admin: %s', (_what, req) => {
    expect(isLocalhostAdminRequest(req)).toBe(true);
  });

  it.each([
    ['a remote peer', local({}, '10.0.0.5')],
    ['an unknown peer', { remoteAddress: undefined, headers: { host: 'localhost:5681' } }],
    ['a peer that only looks loopback', local({}, '::ffff:10.0.0.1')],
    ['X-Forwarded-For (a local proxy relaying someone)', local({ 'x-forwarded-for': '203.0.113.9' })],
    ['Forwarded', local({ forwarded: 'for=203.0.113.9' })],
    ['X-Real-IP', local({ 'x-real-ip': '203.0.113.9' })],
    ['an empty X-Forwarded-For', local({ 'x-forwarded-for': '' })],
    ['a foreign Host (DNS rebinding)', local({ host: 'evil.example:5681' })],
    ['no Host', { remoteAddress: '127.0.0.1', headers: {} }],
    ['a foreign Origin', local({ origin: 'https://evil.example' })],
    ['a loopback Origin on another port', local({ origin: 'http://localhost:3000' })],
    ['a null Origin', local({ origin: 'null' })],
    ['an Origin list', local({ origin: ['http://localhost:5681'] })],
    ['a cross-site fetch', local({ 'sec-fetch-site': 'cross-site' })],
    ['a same-site fetch', local({ 'sec-fetch-site': 'same-site' })],
  ])('not admin: %s', (_what, req) => {
    expect(isLocalhostAdminRequest(req)).toBe(false);
  });
});
