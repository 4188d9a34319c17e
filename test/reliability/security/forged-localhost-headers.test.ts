import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { rawRequest } from '../support/raw-http.js';

/**
 * localhostIsAdmin makes a token-less request from this machine admin. Each header below is how a
 * proxy, a rebinding attacker or a cross-site page makes a request look local; every one must turn
 * the request back into mesh-system:anonymous.
 */
const forgeries: [string, Record<string, string>][] = [
  ['X-Forwarded-For: 127.0.0.1', { 'x-forwarded-for': '127.0.0.1' }],
  ['X-Forwarded-For empty', { 'x-forwarded-for': '' }],
  ['Forwarded: for=127.0.0.1', { forwarded: 'for=127.0.0.1;host=localhost' }],
  ['X-Real-IP: 127.0.0.1', { 'x-real-ip': '127.0.0.1' }],
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
  });
}
