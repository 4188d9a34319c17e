import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '../observability/logger.js';
import { refusalLogDefaults } from '../observability/refusal-log-limiter.js';
import { createPlaneContext } from '../plane/create-plane-context.js';
import { SqliteStore } from '../store/sqlite-store.js';
import { startDpServer } from './dp-server.js';
import { issueDataplaneToken } from './issue-dataplane-token.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A zone's context over a real SQLite file and its dp-server on a free port; logs kept to check redaction. */
async function zoneDpServer(zone: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meshauth-dp-server-'));
  const store = SqliteStore.open(join(dir, 'zone.db'));
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', name: 'test', destination: { write: (line: string) => void lines.push(line) } });
  const clock = createManualClock(Date.now());
  const config = loadConfig({ env: { MESHAUTH_MULTIZONE_ZONE_NAME: zone } });
  const ctx = await createPlaneContext({ plane: 'zone', config, store, instance: 'test-instance', logger, clock });
  const server = await startDpServer(ctx, { port: 0, host: '127.0.0.1' });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => ctx.families.feed.stop(), () => server.close());
  const issue = (name = 'web-1', mesh = 'default') =>
    issueDataplaneToken(
      { families: ctx.families, records: ctx.issuedTokens, zone, logger },
      { name, mesh, tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', validForMs: 3_600_000 },
      { issuedBy: 'test' },
    );
  const bootstrap = async (body: unknown, contentType = 'application/json') => {
    const response = await fetch(`http://127.0.0.1:${server.port}/bootstrap`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type'), json: (await response.json()) as Record<string, any> };
  };
  return { ctx, server, clock, lines, issue, bootstrap, close: () => server.close() };
}

describe('dp-server POST /bootstrap', () => {
  it('answers 200 with the identity of a valid token', async () => {
    const zone1 = await zoneDpServer('zone-1');
    expect(zone1.server.port).toBeGreaterThan(0);
    const result = await zone1.bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: await zone1.issue() });
    expect(result).toEqual({
      status: 200,
      type: expect.stringMatching(/^application\/json/),
      json: { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, type: 'dataplane', zone: 'zone-1' },
    });
  });

  it('answers 401 problem+json with the reason, without echoing the token or logging it', async () => {
    const zone1 = await zoneDpServer('zone-1');
    const zone2 = await zoneDpServer('zone-2');
    const token = await zone1.issue();
    const refused = await zone2.bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: token });
    expect(refused.status).toBe(401);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(refused.json).toMatchObject({ status: 401, title: 'Unauthorized', reason: 'foreign-zone', detail: expect.stringContaining('zone zone-2') });
    expect(JSON.stringify(refused.json)).not.toContain(token);

    expect((await zone1.bootstrap({ mesh: 'default', name: 'web-2', dataplaneToken: token })).json.reason).toBe('other-name');
    zone1.clock.advance(3_600_000);
    expect((await zone1.bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: token })).json.reason).toBe('expired');

    const logged = [...zone1.lines, ...zone2.lines].join('');
    expect(logged).toContain('dataplane bootstrap refused');
    expect(logged).not.toContain(token.split('.')[2]!);
  });

  it('counts every refusal by reason but logs a bounded number of lines per client, then one summary', async () => {
    const zone1 = await zoneDpServer('zone-1');
    const foreign = await (await zoneDpServer('zone-2')).issue();
    for (let i = 0; i < 30; i += 1) expect((await zone1.bootstrap({ mesh: 'default', name: 'web-1', dataplaneToken: foreign })).status).toBe(401);
    const { metrics } = zone1.ctx;
    expect((await metrics.dataplaneBootstrapRefusals.get()).values).toEqual([{ labels: { reason: 'foreign-zone' }, value: 30 }]);
    expect((await metrics.refusalLogLinesSuppressed.get()).values).toEqual([{ labels: {}, value: 30 - refusalLogDefaults.linesPerWindow }]);

    await zone1.close();
    const lines = zone1.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const refusals = lines.filter((l) => l.msg === 'dataplane bootstrap refused');
    expect(refusals).toHaveLength(refusalLogDefaults.linesPerWindow);
    expect(refusals[0]).toMatchObject({ mesh: 'default', dataplane: 'web-1', remoteAddress: '127.0.0.1', reason: 'foreign-zone' });
    expect(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('suppressed '))).toEqual([
      expect.objectContaining({ msg: `suppressed ${30 - refusalLogDefaults.linesPerWindow} refusal lines from 127.0.0.1` }),
    ]);
  });

  it('names a missing route without its query string', async () => {
    const zone1 = await zoneDpServer('zone-1');
    const response = await fetch(`http://127.0.0.1:${zone1.server.port}/nope?token=secret-in-query`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { detail: string }).detail).toBe('no route GET /nope');
  });

  it.each([
    [{ mesh: 'default', name: 'web-1' }, 400],
    [{ mesh: 'default', name: 'web-1', dataplaneToken: 'x', extra: true }, 400],
    [{ mesh: 'NOT A MESH', name: 'web-1', dataplaneToken: 'x' }, 400],
    [{ mesh: 'default', name: 'web-1', dataplaneToken: 'x'.repeat(8193) }, 400],
    ['{not json', 400],
    [{ mesh: 'default', name: 'web-1', dataplaneToken: 'x'.repeat(70_000) }, 413],
  ])('refuses the bad body %# with problem+json', async (body, status) => {
    const zone1 = await zoneDpServer('zone-1');
    const result = await zone1.bootstrap(body);
    expect({ status: result.status, type: result.type, problemStatus: result.json.status }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
      problemStatus: status,
    });
  });

  it('serves nothing but /bootstrap: no admin routes on the dataplane port', async () => {
    const zone1 = await zoneDpServer('zone-1');
    const response = await fetch(`http://127.0.0.1:${zone1.server.port}/global-secrets/admin-user-token`);
    expect(response.status).toBe(404);
  });
});
