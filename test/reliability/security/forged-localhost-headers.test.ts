import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { rawRequest, rawSocketRequest } from '../support/raw-http.js';

/**
 * localhostIsAdmin makes a token-less request from this machine admin. Each header below, and an
 * absolute-form request line naming another host, is how a proxy, a rebinding attacker or a
 * cross-site page makes a request look local; every one must turn the request back into
 * mesh-system:anonymous.
 */
const forgeries: [string, Record<string, string>][] = [
  ['X-Forwarded-For: 127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }],
  ['X-Forwarded-For empty', { 'x-forwarded-for': '' }],
  ['Forwarded: for=127.0.0.1', { forwarded: 'for=127.0.0.1;host=localhost' }],
  ['X-Real-IP: 127.0.0.1', { 'x-real-ip': '127.0.0.1' }],
  ['Via: 1.1 proxy (any proxy on the way)', { via: '1.1 proxy.example' }],
  ['X-Forwarded-Host: localhost', { 'x-forwarded-host': 'localhost' }],
  ['X-Forwarded-Proto: http (any X-Forwarded-*)', { 'x-forwarded-proto': 'http' }],
  ['Host: evil.com', { host: 'evil.com' }],
  ['Host: localhost.evil.com', { host: 'localhost.evil.com' }],
  ['Host: 127.0.0.1.nip.io', { host: '127.0.0.1.nip.io' }],
  ['Host: evil.com with a loopback port', { host: 'evil.com:5681' }],
  ['Origin: http://evil.com', { origin: 'http://evil.com' }],
  ['Origin: null', { origin: 'null' }],
  ['Origin: a loopback origin on another port', { origin: 'http://127.0.0.1:1' }],
  ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ['Host: evil.com plus X-Forwarded-For, Origin and Sec-Fetch-Site', { host: 'evil.com', 'x-forwarded-for': '127.0.0.1', origin: 'http://evil.com', 'sec-fetch-site': 'cross-site' }],
];

for (const { kind, available } of [
  { kind: 'global-cp' as const, available: true },
  { kind: 'zone-cp' as const, available: zoneCpBuilt() },
]) {
  describe.skipIf(!available)(`localhost-is-admin holds against forged headers on ${kind}`, () => {
    let plane: Plane;

    beforeAll(async () => {
      plane = await startPlane(kind);
    });

    afterAll(async () => {
      await plane?.dispose();
      await stopAll();
    });

    it('a plain request from this machine is admin (the rule under test is on)', async () => {
      const res = await rawRequest(`${plane.url}/who-am-i`);
      expect(res.json).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin'] });
    });

    it.each(forgeries)('%s: anonymous, cannot read or write admin resources', async (_name, headers) => {
      const who = await rawRequest(`${plane.url}/who-am-i`, { headers });
      expect(who.status, who.text).toBe(200);
      expect(who.json.name).toBe('mesh-system:anonymous');

      const read = await rawRequest(`${plane.url}/global-secrets/admin-user-token`, { headers });
      expect(read.status, read.text).toBe(403);
      expect(read.text).not.toContain(plane.adminToken);

      const name = `forged-${Math.random().toString(36).slice(2)}`;
      const write = await rawRequest(`${plane.url}/global-secrets/${name}`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'GlobalSecret', name, data: 'c2VjcmV0' }),
      });
      expect(write.status, write.text).toBe(403);
      const after = await rawRequest(`${plane.url}/global-secrets/${name}`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
      expect(after.status).toBe(404);
    });

    // RFC 9112 §3.2.2: in absolute-form the request-target's authority is the host, and the Host
    // header (loopback here) is ignored. Written by hand: node:http and fetch only send origin-form.
    it.each([
      ['another host', () => 'http://evil.example'],
      ['another host on the plane’s own port', (port: number) => `http://evil.example:${port}`],
      ['user info before a loopback host', (port: number) => `http://evil@127.0.0.1:${port}`],
    ])('absolute-form request line naming %s: routed, anonymous, cannot read or write admin resources', async (_name, authorityOf) => {
      const port = plane.daemon.httpPort;
      const authority = authorityOf(port);
      const host = `Host: 127.0.0.1:${port}`;
      const who = await rawSocketRequest(port, [`GET ${authority}/who-am-i HTTP/1.1`, host]);
      expect(who.status, who.text).toBe(200);
      expect(who.json.name).toBe('mesh-system:anonymous');

      const read = await rawSocketRequest(port, [`GET ${authority}/global-secrets/admin-user-token HTTP/1.1`, host]);
      expect(read.status, read.text).toBe(403);
      expect(read.text).not.toContain(plane.adminToken);

      const name = `forged-${Math.random().toString(36).slice(2)}`;
      const body = JSON.stringify({ type: 'GlobalSecret', name, data: 'c2VjcmV0' });
      const write = await rawSocketRequest(port, [`PUT ${authority}/global-secrets/${name} HTTP/1.1`, host, 'Content-Type: application/json'], body);
      expect(write.status, write.text).toBe(403);
      const after = await rawRequest(`${plane.url}/global-secrets/${name}`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
      expect(after.status).toBe(404);
    });

    it('an absolute-form request line naming this machine is still routed and still admin', async () => {
      const port = plane.daemon.httpPort;
      const who = await rawSocketRequest(port, [`GET http://127.0.0.1:${port}/who-am-i?x=1 HTTP/1.1`, `Host: 127.0.0.1:${port}`]);
      expect(who.status, who.text).toBe(200);
      expect(who.json).toEqual({ name: 'mesh-system:admin', groups: ['mesh-system:admin'] });
    });
  });
}
