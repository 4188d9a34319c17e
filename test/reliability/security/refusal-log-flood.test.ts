import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusalLogDefaults } from '@meshauth/core';
import { stopAll } from '../../support/daemon.js';
import { linesSince } from '../support/log-watch.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { pipelinedRequests, rawRequest } from '../support/raw-http.js';

/**
 * A refusal costs a client one cheap request and used to cost the server one log line holding the
 * whole URL: long query strings from a few clients filled the disk, and a token put in a query
 * string landed in the log. Here several clients (one 127/8 address each) pipeline refused
 * requests with 15 KiB query strings carrying the admin token, in origin-form and absolute-form:
 * every refusal must be counted, no client may get more than its lines per window plus one
 * summary, and no query string or token may reach the log.
 */
const clients = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'];
const perClient = 60;
const { linesPerWindow } = refusalLogDefaults;

/** The value of the one sample of `name` whose labels include `labels` (a text fragment). */
function sample(metrics: string, name: string, labels = ''): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').at(-1));
}

function floodedLog(plane: Plane, mark: number) {
  const lines = plane.daemon.output.slice(mark);
  const parsed = linesSince(plane.daemon, mark);
  return { text: lines.join('\n'), parsed };
}

function expectBoundedPerClient(parsed: Record<string, unknown>[], refusalMsg: string) {
  for (const address of clients) {
    const refusals = parsed.filter((l) => l.msg === refusalMsg && l.remoteAddress === address);
    expect(refusals, address).toHaveLength(linesPerWindow);
    const summaries = parsed.filter((l) => l.msg === `suppressed ${perClient - linesPerWindow} refusal lines from ${address}`);
    expect(summaries, address).toHaveLength(1);
  }
}

for (const { kind, available } of [
  { kind: 'global-cp' as const, available: true },
  { kind: 'zone-cp' as const, available: zoneCpBuilt() },
]) {
  describe.skipIf(!available)(`refusal logging under a flood on ${kind}`, () => {
    let plane: Plane;

    beforeAll(async () => {
      plane = await startPlane(kind, { MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
    });

    afterAll(async () => {
      await plane?.dispose();
      await stopAll();
    });

    it('API: every refusal counted, a bounded log per client, no query string and no token in it', async () => {
      const port = plane.daemon.httpPort;
      const mark = plane.daemon.output.length;
      const query = `?access_token=${plane.adminToken}&pad=${'q'.repeat(15 * 1024)}`;
      const statuses = await Promise.all(
        clients.map((address) =>
          pipelinedRequests(
            port,
            address,
            Array.from({ length: perClient }, (_, i) => ({
              // Every other one in absolute-form: the authority and the query string must stay out of the log too.
              head: [`GET ${i % 2 === 0 ? '' : `http://evil.example:${port}`}/who-am-i${query} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Authorization: Bearer not.a.jwt'],
            })),
          ),
        ),
      );
      for (const s of statuses) expect(s).toEqual(Array(perClient).fill(401));

      const metrics = (await rawRequest(`${plane.url}/metrics`)).text;
      const refused = clients.length * perClient;
      expect(sample(metrics, 'meshauth_authentications_total', 'reason="ERR_TOKEN_MALFORMED"')).toBe(refused);
      expect(sample(metrics, 'meshauth_refusal_log_lines_suppressed_total')).toBe(refused - clients.length * linesPerWindow);

      await plane.daemon.stop(); // the summaries of windows still open are written at close
      const { text, parsed } = floodedLog(plane, mark);
      expectBoundedPerClient(parsed, 'authentication refused');
      for (const l of parsed.filter((p) => p.msg === 'authentication refused')) expect(l.path).toBe('/who-am-i');
      expect(text.length, `${refused} refused 15 KiB URLs`).toBeLessThan(32 * 1024);
      expect(text).not.toContain('access_token');
      expect(text).not.toContain('qqqqqqqq');
      expect(text).not.toContain('evil.example');
      for (const part of plane.adminToken.split('.').slice(1)) expect(text).not.toContain(part);
    });
  });
}

describe.skipIf(!zoneCpBuilt())('refusal logging under a flood on the dp-server', () => {
  let zone: Plane;

  beforeAll(async () => {
    zone = await startPlane('zone-cp', { MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false' });
  });

  afterAll(async () => {
    await zone?.dispose();
    await stopAll();
  });

  it('every refused bootstrap counted by reason, a bounded log per client, no query string in it', async () => {
    const port = zone.daemon.ready.dpServerPort as number;
    const mark = zone.daemon.output.length;
    const body = JSON.stringify({ mesh: 'default', name: 'web-1', dataplaneToken: 'not.a.jwt' });
    const statuses = await Promise.all(
      clients.map((address) =>
        pipelinedRequests(
          port,
          address,
          Array.from({ length: perClient }, () => ({
            head: [`POST /bootstrap?access_token=${zone.adminToken}&pad=${'q'.repeat(15 * 1024)} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Content-Type: application/json'],
            body,
          })),
        ),
      ),
    );
    for (const s of statuses) expect(s).toEqual(Array(perClient).fill(401));

    const metrics = (await rawRequest(`${zone.url}/metrics`)).text;
    const refused = clients.length * perClient;
    expect(sample(metrics, 'meshauth_dataplane_bootstrap_refusals_total', 'reason="malformed"')).toBe(refused);
    expect(sample(metrics, 'meshauth_refusal_log_lines_suppressed_total')).toBe(refused - clients.length * linesPerWindow);

    await zone.daemon.stop();
    const { text, parsed } = floodedLog(zone, mark);
    expectBoundedPerClient(parsed, 'dataplane bootstrap refused');
    expect(text.length).toBeLessThan(32 * 1024);
    expect(text).not.toContain('access_token');
    expect(text).not.toContain('qqqqqqqq');
  });
});
