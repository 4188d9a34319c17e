import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { rawRequest } from '../support/raw-http.js';
import { readStore } from '../support/store-snapshot.js';

/**
 * Property: whatever body or path a client sends to a JSON route, the plane answers below 500,
 * keeps running, and when it refuses, nothing in its store changed. Requests carry the admin token
 * so they reach validation and the handlers, not just the access check.
 */
const NUM_RUNS = 150;

const anything = fc.oneof(
  fc.jsonValue(),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(null, true, [], {}, '', -1, 0, 1e308, '__proto__', 'constructor'),
);
const durations = fc.constantFrom('1h', '24h', '0s', '-1h', '1.5h', '1e3h', '', '9999999h', '8761h', '1h1h', '1 h', '1ms', 'PT1H', '٣h');
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const names = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('mesh-system:admin', '', ' ', 'a'.repeat(254), '../../etc', "x'; DROP TABLE secrets;--"));

/**
 * A valid body for the route, then (half the time) one field replaced by anything or removed, and
 * sometimes an unknown field added: inputs that get past the outer checks and probe the handler.
 */
function nearlyValid(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(valid, fc.nat(), fc.option(anything, { nil: undefined }), fc.boolean(), fc.nat(9)).map(([v, pick, value, mutate, extra]) => {
    const copy: Record<string, unknown> = { ...v };
    const keys = Object.keys(copy);
    if (mutate && keys.length > 0) {
      const key = keys[pick % keys.length]!;
      if (value === undefined) delete copy[key];
      else copy[key] = value;
    }
    if (extra === 0) copy.extra = 'x';
    return copy;
  });
}

const goodNames = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const validDurations = fc.constantFrom('1h', '24h', '90s', '1h30m');
const shaped = {
  user: nearlyValid(fc.record({ name: fc.oneof(goodNames, names), groups: fc.array(fc.oneof(goodNames, names), { maxLength: 120 }), validFor: fc.oneof(validDurations, durations) })),
  zone: nearlyValid(fc.record({ zone: fc.oneof(goodNames, fc.constantFrom('Zone', 'zone_1')), scope: fc.array(fc.constantFrom('cp', 'ingress', 'egress', 'admin', ''), { minLength: 1, maxLength: 4 }), validFor: fc.oneof(validDurations, durations) })),
  dataplane: nearlyValid(
    fc.record({
      name: fc.oneof(goodNames, names),
      mesh: fc.oneof(fc.constantFrom('default', 'other'), fc.constantFrom('Default', 'a'.repeat(70), '')),
      tags: fc.dictionary(fc.oneof(goodNames, fc.string()), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 })), { maxKeys: 5 }),
      type: fc.constantFrom('dataplane', 'ingress', 'egress', 'x'),
      validFor: fc.oneof(validDurations, durations),
    }),
  ),
  revocation: nearlyValid(fc.oneof(fc.record({ jti: fc.oneof(fc.uuid(), fc.string({ maxLength: 200 })) }), fc.record({ token: fc.oneof(fc.string(), fc.constantFrom('a.b.c', 'eyJhbGciOiJub25lIn0.eyJqdGkiOjF9.', '..', 'e30.e30.', 'e30.eyJqdGkiOiJ4IiwiZXhwIjoxZTQwMH0.')) }))),
  // '$VALID' is replaced at send time by a real dataplane token for dp-1 in mesh default.
  bootstrap: nearlyValid(
    fc.record({
      mesh: fc.oneof(fc.constantFrom('default', 'other'), names),
      name: fc.oneof(fc.constantFrom('dp-1', 'dp-2'), names),
      dataplaneToken: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('$VALID', '$VALID.x', 'a.b.c', 'e30.e30.', '') }, fc.string({ maxLength: 300 })),
    }),
  ),
  secret: (type: string) => nearlyValid(fc.record({ type: fc.constant(type), data: fc.oneof(fc.base64String({ maxLength: 400 }), fc.string()) })),
};

/** Raw bodies: JSON of any shape, text that is not JSON, invalid UTF-8, deep nesting. */
const rawBody = fc.oneof(
  fc.json().map((t) => ({ text: t as string | Buffer, type: 'application/json' })),
  fc.string().map((t) => ({ text: t as string | Buffer, type: 'application/json' })),
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ text: Buffer.from(b) as string | Buffer, type: 'application/json' })),
  fc.integer({ min: 1, max: 5000 }).map((n) => ({ text: `${'['.repeat(n)}${']'.repeat(n)}` as string | Buffer, type: 'application/json' })),
  fc.json().map((t) => ({ text: t as string | Buffer, type: fc.sample(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''), 1)[0]! })),
);

const body = (shapedArb: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 3, arbitrary: shapedArb.map((b) => ({ text: JSON.stringify(b) as string | Buffer, type: 'application/json' })) }, { weight: 2, arbitrary: rawBody });

const pathNames = fc.oneof(
  { weight: 3, arbitrary: goodNames },
  fc.constantFrom('db-password', 'user-token-signing-key-1', 'user-token-signing-key-0', 'user-token-signing-key-99999999999999999999', 'user-token-signing-key-01', 'user-token-revocations', 'zone-token-signing-key-1', 'admin-user-token', 'dataplane-token-signing-key-default-1', '..', '.', 'a%00b'),
  fc.string({ minLength: 1, maxLength: 300 }).map(encodeURIComponent),
);
const meshNames = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('default', 'other') }, fc.constantFrom('default', 'Default', '-x', 'a'.repeat(64), '..'), fc.string({ minLength: 1, maxLength: 80 }).map(encodeURIComponent));

interface Route {
  name: string;
  planes: ('global-cp' | 'zone-cp')[];
  /** The zone's dataplane server (dp-server) instead of the API server. */
  dpServer?: boolean;
  request: fc.Arbitrary<{ method: string; path: string; body: { text: string | Buffer; type: string } }>;
}

const post = (path: string, shapedArb: fc.Arbitrary<unknown>) => body(shapedArb).map((b) => ({ method: 'POST', path, body: b }));
const routes: Route[] = [
  { name: 'POST /tokens/user', planes: ['global-cp', 'zone-cp'], request: post('/tokens/user', shaped.user) },
  { name: 'POST /tokens/zone', planes: ['global-cp'], request: post('/tokens/zone', shaped.zone) },
  { name: 'POST /tokens/dataplane', planes: ['global-cp', 'zone-cp'], request: post('/tokens/dataplane', shaped.dataplane) },
  { name: 'POST /tokens/user/revocations', planes: ['global-cp', 'zone-cp'], request: post('/tokens/user/revocations', shaped.revocation) },
  { name: 'dp-server POST /bootstrap', planes: ['zone-cp'], dpServer: true, request: post('/bootstrap', shaped.bootstrap) },
  {
    name: 'PUT /global-secrets/:name',
    planes: ['global-cp', 'zone-cp'],
    request: fc.tuple(pathNames, body(shaped.secret('GlobalSecret'))).map(([name, b]) => ({ method: 'PUT', path: `/global-secrets/${name}`, body: b })),
  },
  {
    name: 'PUT /meshes/:mesh/secrets/:name',
    planes: ['global-cp', 'zone-cp'],
    request: fc.tuple(meshNames, pathNames, body(shaped.secret('Secret'))).map(([mesh, name, b]) => ({ method: 'PUT', path: `/meshes/${mesh}/secrets/${name}`, body: b })),
  },
];

const planes = [
  { kind: 'global-cp' as const, available: true },
  { kind: 'zone-cp' as const, available: zoneCpBuilt() },
];

for (const { kind, available } of planes) {
  describe.skipIf(!available)(`fuzzing JSON routes on ${kind}: never a 500, never a change when refused`, () => {
    let plane: Plane;

    let dataplaneToken = '';

    beforeAll(async () => {
      plane = await startPlane(kind);
      if (kind === 'zone-cp') {
        const issued = await rawRequest(`${plane.url}/tokens/dataplane`, {
          method: 'POST',
          headers: { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'dp-1', mesh: 'default', validFor: '1h' }),
        });
        expect(issued.status, issued.text).toBe(200);
        dataplaneToken = issued.text;
      }
    });

    afterAll(async () => {
      await plane?.dispose();
      await stopAll();
    });

    for (const route of routes.filter((r) => r.planes.includes(kind))) {
      it(route.name, async () => {
        let before = JSON.stringify(readStore(plane.storePath));
        const statuses = new Map<number, number>();
        await fc.assert(
          fc.asyncProperty(route.request, async (req) => {
            const headers: Record<string, string> = { authorization: `Bearer ${plane.adminToken}` };
            if (req.body.type) headers['content-type'] = req.body.type;
            const base = route.dpServer ? `http://127.0.0.1:${plane.daemon.ready.dpServerPort}` : plane.url;
            const body = typeof req.body.text === 'string' ? req.body.text.replaceAll('$VALID', dataplaneToken) : req.body.text;
            const res = await rawRequest(`${base}${req.path}`, { method: req.method, headers, body });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            expect(plane.daemon.process.exitCode).toBeNull();
            expect(res.status, `${req.method} ${req.path} ${String(req.body.text).slice(0, 200)} -> ${res.text}`).toBeLessThan(500);
            const after = JSON.stringify(readStore(plane.storePath));
            if (res.status >= 400) {
              expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
              expect(after, `${req.method} ${req.path} was refused (${res.status}) but changed the store`).toBe(before);
            }
            before = after;
          }),
          { numRuns: NUM_RUNS },
        );
        // The property must have reached past validation (400) at least sometimes, or it proves little.
        expect([...statuses.keys()].some((s) => s !== 400), `statuses seen: ${[...statuses.keys()].join(', ')}`).toBe(true);
        expect((await rawRequest(`${plane.url}/`)).status).toBe(200);
      });
    }
  });
}
