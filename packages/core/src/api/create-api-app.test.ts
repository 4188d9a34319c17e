import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { loadConfig } from '../config/load-config.js';
import { MAX_SHOWN_PATH_CHARS } from '../http/request-target.js';
import { createLogger } from '../observability/logger.js';
import { refusalLogDefaults } from '../observability/refusal-log-limiter.js';
import { createPlaneContext } from '../plane/create-plane-context.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { createApiApp } from './create-api-app.js';

/** What the API server writes to its log about refused requests (inject: from 127.0.0.1). */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function apiWithLog() {
  const store = SqliteStore.open(':memory:');
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', name: 'test', destination: { write: (line: string) => void lines.push(line) } });
  const ctx = await createPlaneContext({ instance: 'test-instance', plane: 'global', config: loadConfig({ env: {} }), store, logger, clock: createManualClock(1_700_000_000_000) });
  const app = createApiApp(ctx);
  cleanups.push(() => store.close(), () => ctx.families.feed.stop(), () => app.close());
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ctx, app, lines, parsed };
}

const queryToken = 'eyJhbGciOiJSUzI1NiJ9.query-string-token-payload.query-string-token-signature';

describe('authentication refusals in the log', () => {
  it('name the method, the path without its query string, the peer and the reason', async () => {
    const api = await apiWithLog();
    const response = await api.app.inject({ method: 'GET', url: `/who-am-i?token=${queryToken}&pad=${'x'.repeat(15_360)}`, headers: { authorization: 'Bearer x.y.z' } });
    expect(response.statusCode).toBe(401);
    const refusals = api.parsed().filter((l) => l.msg === 'authentication refused');
    expect(refusals).toEqual([expect.objectContaining({ method: 'GET', path: '/who-am-i', remoteAddress: '127.0.0.1', reason: 'ERR_TOKEN_MALFORMED' })]);
    expect(api.lines.join('')).not.toContain('query-string-token');
    expect(api.lines.join('')).not.toContain('?');
  });

  it(`cut a long path to ${MAX_SHOWN_PATH_CHARS} characters, and so does a 404's detail`, async () => {
    const api = await apiWithLog();
    const long = `/${'a'.repeat(5_000)}`;
    await api.app.inject({ method: 'GET', url: `${long}?token=${queryToken}`, headers: { authorization: 'Bearer x.y.z' } });
    const [refusal] = api.parsed().filter((l) => l.msg === 'authentication refused');
    expect(refusal!.path).toBe(`${long.slice(0, MAX_SHOWN_PATH_CHARS)}…`);

    const missing = await api.app.inject({ method: 'GET', url: `${long}?token=${queryToken}` });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().detail).toBe(`no route GET ${long.slice(0, MAX_SHOWN_PATH_CHARS)}…`);
  });

  it('are all counted, but one client gets a bounded number of lines, then one summary line', async () => {
    const api = await apiWithLog();
    for (let i = 0; i < 200; i += 1) await api.app.inject({ method: 'GET', url: `/who-am-i?token=${queryToken}`, headers: { authorization: 'Bearer x.y.z' } });
    const suppressed = 200 - refusalLogDefaults.linesPerWindow;
    expect((await api.ctx.metrics.authentications.get()).values).toContainEqual({ labels: { result: 'refused', reason: 'ERR_TOKEN_MALFORMED' }, value: 200 });
    expect((await api.ctx.metrics.refusalLogLinesSuppressed.get()).values).toEqual([{ labels: {}, value: suppressed }]);

    await api.app.close();
    const lines = api.parsed();
    expect(lines.filter((l) => l.msg === 'authentication refused')).toHaveLength(refusalLogDefaults.linesPerWindow);
    expect(lines.filter((l) => l.msg === `suppressed ${suppressed} refusal lines from 127.0.0.1`)).toHaveLength(1);
    expect(lines).toHaveLength(refusalLogDefaults.linesPerWindow + 1);
  });
});

describe('problem+json', () => {
  it("carries the registry's code and the request id as instance, and that id is on the request's log line", async () => {
    const api = await apiWithLog();
    const refused = await api.app.inject({ method: 'GET', url: '/who-am-i', headers: { authorization: 'Bearer x.y.z' } });
    const missing = await api.app.inject({ method: 'GET', url: '/global-secrets/nothing-here' });
    const invalid = await api.app.inject({ method: 'POST', url: '/tokens/user', payload: { name: '', validFor: 'forever' } });
    const problems = [refused, missing, invalid].map((r) => r.json() as { code: string; instance: string; status: number });
    expect(problems.map((p) => [p.status, p.code])).toEqual([
      [401, 'ERR_TOKEN_MALFORMED'],
      [404, 'ERR_NOT_FOUND'],
      [400, 'ERR_BAD_REQUEST'],
    ]);
    expect(new Set(problems.map((p) => p.instance)).size).toBe(3);
    const lines = api.parsed();
    for (const problem of problems) {
      expect(lines.filter((l) => l.reqId === problem.instance), problem.code).toEqual([expect.objectContaining({ level: 30, reqId: problem.instance })]);
    }
    expect(lines.find((l) => l.reqId === problems[2]!.instance)).toMatchObject({ msg: 'request refused', status: 400, code: 'ERR_BAD_REQUEST', path: '/tokens/user' });
  });

  it('is answered for a route-less path with ERR_NOT_FOUND, and its log lines are limited per client like refusals', async () => {
    const api = await apiWithLog();
    for (let i = 0; i < 30; i += 1) expect((await api.app.inject({ method: 'GET', url: `/nothing/${i}` })).json()).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
    expect(api.parsed().filter((l) => l.msg === 'request refused')).toHaveLength(refusalLogDefaults.linesPerWindow);
  });
});
