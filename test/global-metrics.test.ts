import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken, readAdminToken } from './support/http.js';

/** GET /metrics: Prometheus text an operator can alert on. */
const dir = tempDir();
let global: Daemon;

beforeAll(async () => {
  global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'), MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

/** The value of one sample, matched by name and every label given. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const scrape = async () => {
  const result = await http('GET', `${global.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  expect(result.status).toBe(200);
  expect(result.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return result.text;
};

describe('GET /metrics', () => {
  it('counts tokens issued, authentications by result and reason, and shows signing keys present', async () => {
    const before = await scrape();
    expect(before).toMatch(/^# TYPE meshauth_tokens_issued_total counter$/m);
    expect(before).toMatch(/^# TYPE meshauth_authentications_total counter$/m);
    expect(sample(before, 'meshauth_signing_keys', { family: 'user-token', plane: 'global' })).toBe(1);

    const admin = await readAdminToken(global.url);
    for (let i = 0; i < 3; i++) await issueUserToken(global.url, admin, `user-${i}`, []);
    await http('GET', `${global.url}/who-am-i`, { token: 'not-a-jwt' });
    await http('GET', `${global.url}/who-am-i`, { token: 'not-a-jwt' });
    await http('POST', `${global.url}/tokens/user/signing-keys`, { token: admin });

    const after = await scrape();
    expect(sample(after, 'meshauth_tokens_issued_total', { kind: 'user' })).toBe(3);
    expect(sample(after, 'meshauth_authentications_total', { result: 'refused', reason: 'ERR_TOKEN_MALFORMED' })).toBe(2);
    expect(sample(after, 'meshauth_authentications_total', { result: 'authenticated' })).toBeGreaterThanOrEqual(4);
    expect(sample(after, 'meshauth_authentications_total', { result: 'anonymous' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'meshauth_signing_keys', { family: 'user-token' })).toBe(2);
  });

  it('is served to anyone and carries no credentials', async () => {
    const text = await scrape();
    expect(text).not.toMatch(/eyJ|PRIVATE KEY/);
  });
});
