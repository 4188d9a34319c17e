import { describe, expect, it } from 'vitest';
import { isLocalhostAdminRequest, type RequestOrigin } from './localhost-admin.js';

const local = (headers: RequestOrigin['headers'] = {}, remoteAddress: string | undefined = '127.0.0.1', target = '/who-am-i'): RequestOrigin => ({
  remoteAddress,
  target,
  headers: { host: 'localhost:5681', ...headers },
});
/** An absolute-form request line (`GET http://…/who-am-i HTTP/1.1`) with a loopback Host header. */
const absolute = (target: string) => local({ host: '127.0.0.1:5681' }, '127.0.0.1', target);

describe('isLocalhostAdminRequest', () => {
  it.each([
    ['curl from 127.0.0.1', local()],
    ['IPv6 loopback', local({ host: '[::1]:5681' }, '::1')],
    ['IPv4-mapped loopback', local({ host: '127.0.0.1:5681' }, '::ffff:127.0.0.1')],
    ['IPv4-mapped loopback in the Host', local({ host: '[::ffff:127.0.0.1]:5681' }, '::ffff:127.0.0.1')],
    ['another 127/8 address', local({ host: '127.0.0.2' }, '127.0.0.2')],
    ['Host without port', local({ host: 'LOCALHOST' })],
    ['same-origin browser request', local({ 'sec-fetch-site': 'same-origin', origin: 'http://localhost:5681' })],
    ['typed-in URL', local({ 'sec-fetch-site': 'none' })],
    ['a query string', local({}, '127.0.0.1', '/who-am-i?x=http://evil.example')],
    ['absolute-form naming 127.0.0.1', absolute('http://127.0.0.1:5681/who-am-i')],
    ['absolute-form naming localhost, upper-case scheme', absolute('HTTP://LocalHost:5681/who-am-i?x=1')],
    ['absolute-form naming [::1] over https', absolute('https://[::1]:5682/who-am-i')],
    ['absolute-form without a path', absolute('http://127.0.0.1:5681')],
  ])('admin: %s', (_what, req) => {
    expect(isLocalhostAdminRequest(req)).toBe(true);
  });

  it.each([
    ['a remote peer', local({}, '10.0.0.5')],
    ['an unknown peer', { remoteAddress: undefined, target: '/', headers: { host: 'localhost:5681' } }],
    ['a peer that only looks loopback', local({}, '::ffff:10.0.0.1')],
    ['X-Forwarded-For (a local proxy relaying someone)', local({ 'x-forwarded-for': '203.0.113.9' })],
    ['Forwarded', local({ forwarded: 'for=203.0.113.9' })],
    ['X-Real-IP', local({ 'x-real-ip': '203.0.113.9' })],
    ['Via (any proxy on the way)', local({ via: '1.1 proxy.example' })],
    ['X-Forwarded-Host (a proxy relaying another host)', local({ 'x-forwarded-host': 'evil.example' })],
    ['X-Forwarded-Proto (any other X-Forwarded-*)', local({ 'x-forwarded-proto': 'https' })],
    ['an empty X-Forwarded-For', local({ 'x-forwarded-for': '' })],
    ['an empty Via', local({ via: '' })],
    ['a foreign Host (DNS rebinding)', local({ host: 'evil.example:5681' })],
    ['Host: evil.example:localhost (a name where the port goes)', local({ host: 'evil.example:localhost' })],
    ['Host: localhost:1evil (junk after the port)', local({ host: 'localhost:1evil' })],
    ['Host: 127.0.0.1.evil.example (a name that starts like a loopback address)', local({ host: '127.0.0.1.evil.example' })],
    ['Host: localhost.evil.example', local({ host: 'localhost.evil.example' })],
    ['Host: [localhost] (brackets hold an IPv6 address only)', local({ host: '[localhost]:5681' })],
    ['Host: [127.0.0.1] (an IPv4 address in brackets)', local({ host: '[127.0.0.1]' })],
    ['Host: localhost] (a closing bracket alone)', local({ host: 'localhost]' })],
    ['Host: [localhost (an opening bracket alone)', local({ host: '[localhost' })],
    ['Host: [127.0.0.1 (an opening bracket alone before an address)', local({ host: '[127.0.0.1:5681' })],
    ['Host: local[host (a bracket inside a name)', local({ host: 'local[host' })],
    ['no Host', { remoteAddress: '127.0.0.1', target: '/', headers: {} }],
    ['a foreign Origin', local({ origin: 'https://evil.example' })],
    ['a loopback Origin on another port', local({ origin: 'http://localhost:3000' })],
    ['a null Origin', local({ origin: 'null' })],
    ['an Origin list', local({ origin: ['http://localhost:5681'] })],
    ['a cross-site fetch', local({ 'sec-fetch-site': 'cross-site' })],
    ['a same-site fetch', local({ 'sec-fetch-site': 'same-site' })],
    ['absolute-form naming another host (RFC 9112 §3.2.2: its authority is the host)', absolute('http://evil.example/who-am-i')],
    ['absolute-form naming another host on a loopback port', absolute('http://evil.example:5681/who-am-i')],
    ['absolute-form with user info before a loopback host', absolute('http://evil@127.0.0.1:5681/who-am-i')],
    ['absolute-form naming a host that starts like a loopback address', absolute('http://127.0.0.1.evil.example/who-am-i')],
    ['absolute-form without an authority', absolute('http:///who-am-i')],
    ['absolute-form with another scheme', absolute('ftp://127.0.0.1/who-am-i')],
    ['asterisk-form', absolute('*')],
  ])('not admin: %s', (_what, req) => {
    expect(isLocalhostAdminRequest(req)).toBe(false);
  });
});
