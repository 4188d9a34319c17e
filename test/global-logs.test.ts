import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refusalLogDefaults } from '@meshauth/core';
import { startDaemon, stopAll, tempDir } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';
import { bash } from './support/shell.js';

/**
 * Secrets never reach the log: run a full flow at the most verbose level, capture every line
 * global-cp prints, and look for each credential that went through it.
 */
const dir = tempDir();

afterAll(async () => {
  await stopAll();
  dir.remove();
});

describe('global-cp logs', () => {
  it('are pino JSON and hold no token, private key, secret value or Authorization header value', async () => {
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_LOG_LEVEL: 'trace' });
    const url = global.url;
    const secretsSeen: string[] = [];

    const admin = await readAdminToken(url);
    const john = (await bash(`curl -s localhost:${global.httpPort}/tokens/user -H'authentication: Bearer ${admin}' -H'content-type: application/json' --data '{"name": "john","groups": ["team-a"], "validFor": "24h"}'`)).stdout;
    const jane = await issueUserToken(url, admin, 'jane', []);
    expect(john.split('.')).toHaveLength(3);
    expect((await http('GET', `${url}/who-am-i`, { token: john })).json.name).toBe('john');

    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect((await http('PUT', `${url}/global-secrets/user-token-signing-key-2`, { token: admin, body: { data: Buffer.from(pem).toString('base64') } })).status).toBe(201);
    expect((await http('POST', `${url}/tokens/user/signing-keys`, { token: admin })).status).toBe(201);
    const key1 = Buffer.from((await http('GET', `${url}/global-secrets/user-token-signing-key-1`, { token: admin })).json.data, 'base64').toString();

    const secretValue = 'hunter2-correct-horse-battery-staple';
    expect((await http('PUT', `${url}/meshes/default/secrets/db`, { token: admin, body: { data: Buffer.from(secretValue).toString('base64') } })).status).toBe(201);
    expect((await http('PUT', `${url}/global-secrets/bad`, { token: admin, body: { data: secretValue } })).status).toBe(400);

    expect((await http('POST', `${url}/tokens/user/revocations`, { token: admin, body: { token: jane } })).status).toBe(201);
    expect((await http('GET', `${url}/who-am-i`, { headers: { authentication: `Bearer ${jane}` } })).status).toBe(401);
    const [h, p] = john.split('.');
    const forged = `${h}.${p}.${'A'.repeat(342)}`;
    expect((await http('GET', `${url}/who-am-i`, { token: forged })).status).toBe(401);
    const zoneToken = await http('POST', `${url}/tokens/zone`, { token: admin, body: { zone: 'zone-1', scope: ['cp'], validFor: '1h' } });
    expect(zoneToken.status).toBe(200);

    expect(await global.stop()).toBe(0);
    secretsSeen.push(admin, john, jane, forged, zoneToken.text, secretValue, Buffer.from(secretValue).toString('base64'));

    const lines = global.output.filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.some((line) => line.includes('user token issued'))).toBe(true);
    expect(lines.some((line) => line.includes('authentication refused'))).toBe(true);

    const log = global.output.join('\n');
    for (const secret of secretsSeen) {
      for (const part of secret.split('.')) if (part.length >= 16) expect(log).not.toContain(part);
    }
    expect(log).not.toMatch(/PRIVATE KEY/);
    for (const keyPem of [pem, key1]) {
      const body = keyPem.split('\n').find((line) => line.length === 64)!;
      expect(log).not.toContain(body);
    }
    expect(log).not.toMatch(/Bearer /i);
  });

  it('show refused requests by path only (no query string, no token in it), in a bounded number of lines, every one counted', async () => {
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'flood.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
    const admin = await readAdminToken(global.url);
    const john = await issueUserToken(global.url, admin, 'john', []);
    const mark = global.output.length;

    // 200 refused requests, each with a 15 KiB query string that carries a valid token: 3 MB sent.
    const query = `?access_token=${john}&pad=${'x'.repeat(15 * 1024)}`;
    for (let i = 0; i < 200; i += 1) {
      expect((await http('GET', `${global.url}/who-am-i${query}`, { token: 'not.a.jwt' })).status).toBe(401);
    }
    const metrics = (await http('GET', `${global.url}/metrics`, { token: admin })).text;
    const suppressed = 200 - refusalLogDefaults.linesPerWindow;
    expect(metrics).toMatch(/^meshauth_authentications_total\{result="refused",reason="ERR_TOKEN_MALFORMED"[^}]*\} 200$/m);
    expect(metrics).toMatch(new RegExp(`^meshauth_refusal_log_lines_suppressed_total\\{[^}]*\\} ${suppressed}$`, 'm'));
    expect(await global.stop()).toBe(0);

    const lines = global.output.slice(mark).filter((line) => line.trim() !== '');
    const log = lines.join('\n');
    expect(log.length, 'a few kilobytes of log for 3 MB of refused URLs').toBeLessThan(16 * 1024);
    const refusals = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.msg === 'authentication refused');
    expect(refusals).toHaveLength(refusalLogDefaults.linesPerWindow);
    for (const refusal of refusals) expect(refusal).toMatchObject({ method: 'GET', path: '/who-am-i', remoteAddress: '127.0.0.1', reason: 'ERR_TOKEN_MALFORMED' });
    expect(lines.filter((line) => line.includes(`"suppressed ${suppressed} refusal lines from 127.0.0.1"`))).toHaveLength(1);
    expect(log).not.toContain('access_token');
    expect(log).not.toContain('xxxxxxxx');
    for (const part of john.split('.')) expect(log).not.toContain(part);
  });
});
