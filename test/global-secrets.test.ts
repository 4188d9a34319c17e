import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, type HttpResult } from './support/http.js';

/** GlobalSecrets and mesh Secrets: CRUD, and problem+json for every kind of bad request. */
const BODY_LIMIT = 65_536;
const dir = tempDir();
let global: Daemon;

beforeAll(async () => {
  global = await startDaemon('global-cp', {
    MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db'),
    MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
    MESHAUTH_API_SERVER_BODY_LIMIT: String(BODY_LIMIT),
  });
});

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

function expectProblem(result: HttpResult, status: number, detail: RegExp): void {
  expect(result.status).toBe(status);
  expect(result.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(result.json).toMatchObject({ type: expect.any(String), status, title: expect.any(String), detail: expect.stringMatching(detail) });
}

describe.each([
  { kind: 'GlobalSecret', base: '/global-secrets', extra: {} },
  { kind: 'Secret', base: '/meshes/default/secrets', extra: { mesh: 'default' } },
])('$kind CRUD at $base', ({ kind, base, extra }) => {
  const url = (name: string) => `${global.url}${base}/${name}`;

  it('creates (201), reads, updates (200), lists and deletes', async () => {
    const created = await http('PUT', url('db-password'), { body: { type: kind, name: 'db-password', ...extra, data: b64('s3cr3t') } });
    expect(created.status).toBe(201);
    expect((await http('GET', url('db-password'))).json).toEqual({ type: kind, ...extra, name: 'db-password', data: b64('s3cr3t') });

    expect((await http('PUT', url('db-password'), { body: { data: b64('rotated') } })).status).toBe(200);
    expect((await http('GET', url('db-password'))).json.data).toBe(b64('rotated'));

    const list = await http('GET', `${global.url}${base}`);
    expect(list.status).toBe(200);
    expect(list.json.items).toContainEqual({ type: kind, ...extra, name: 'db-password', data: b64('rotated') });
    expect(list.json.total).toBe(list.json.items.length);

    expect((await http('DELETE', url('db-password'))).status).toBe(200);
    expectProblem(await http('GET', url('db-password')), 404, /db-password( in mesh default)? not found/);
    expectProblem(await http('DELETE', url('db-password')), 404, /db-password( in mesh default)? not found/);
  });

  it('stores any bytes, including an empty value', async () => {
    const bytes = Buffer.from([0, 255, 1, 128]).toString('base64');
    expect((await http('PUT', url('binary'), { body: { data: bytes } })).status).toBe(201);
    expect((await http('GET', url('binary'))).json.data).toBe(bytes);
    expect((await http('PUT', url('empty'), { body: { data: '' } })).status).toBe(201);
    expect((await http('GET', url('empty'))).json.data).toBe('');
  });

  it.each([
    [{}, /data/],
    [{ data: 'not base64!' }, /invalid body: data must be base64/],
    [{ data: 'abc' }, /invalid body: data must be base64/],
    [{ data: 42 }, /data/],
    [{ data: b64('x'), unexpected: true }, /unexpected is not a known field/],
    [{ type: 'Mesh', data: b64('x') }, /type/],
    [{ name: 'other', data: b64('x') }, /invalid body: name must match the name in the path/],
  ])('refuses body %j with 400', async (body, detail) => {
    expectProblem(await http('PUT', url('bad-body'), { body }), 400, detail);
    expect((await http('GET', url('bad-body'))).status).toBe(404);
  });

  it('takes a name of 253 characters', async () => {
    expect((await http('PUT', url('n'.repeat(253)), { body: { data: b64('x') } })).status).toBe(201);
    expect((await http('GET', url('n'.repeat(253)))).json.name).toBe('n'.repeat(253));
  });

  it.each(['-leading', 'trailing-', 'has%20space', 'semi%3Bcolon', 'x'.repeat(254)])('refuses the name %s with 400', async (name) => {
    expectProblem(await http('PUT', url(name), { body: { data: b64('x') } }), 400, /name must match pattern/);
  });

  it('refuses malformed JSON with 400', async () => {
    expectProblem(await http('PUT', url('bad-json'), { body: '{"data": "eA==",' }), 400, /JSON/i);
    expect((await http('GET', url('bad-json'))).status).toBe(404);
  });

  it(`refuses a body over the configured limit (${BODY_LIMIT} bytes) with 413, and takes one under it`, async () => {
    const under = 'A'.repeat(BODY_LIMIT - 1_000);
    expect((await http('PUT', url('big'), { body: { data: under } })).status).toBe(201);
    expectProblem(await http('PUT', url('too-big'), { body: { data: 'A'.repeat(BODY_LIMIT + 4) } }), 413, /too large|body/i);
    expect((await http('GET', url('too-big'))).status).toBe(404);
  });
});

describe('mesh secrets', () => {
  it('keeps meshes apart from each other and from global secrets', async () => {
    await http('PUT', `${global.url}/meshes/mesh-a/secrets/shared-name`, { body: { data: b64('a') } });
    await http('PUT', `${global.url}/meshes/mesh-b/secrets/shared-name`, { body: { data: b64('b') } });
    expect((await http('GET', `${global.url}/meshes/mesh-a/secrets/shared-name`)).json.data).toBe(b64('a'));
    expect((await http('GET', `${global.url}/meshes/mesh-b/secrets/shared-name`)).json.data).toBe(b64('b'));
    expect((await http('GET', `${global.url}/global-secrets/shared-name`)).status).toBe(404);
    expect((await http('GET', `${global.url}/meshes/mesh-a/secrets`)).json.items.map((s: { name: string }) => s.name)).toEqual(['shared-name']);
  });

  it.each(['Default', 'under_score', '-x'])('refuses the mesh name %s with 400', async (mesh) => {
    expectProblem(await http('PUT', `${global.url}/meshes/${mesh}/secrets/x`, { body: { data: b64('x') } }), 400, /mesh must match pattern/);
  });

  it('refuses a body whose mesh differs from the path', async () => {
    expectProblem(await http('PUT', `${global.url}/meshes/mesh-a/secrets/x`, { body: { mesh: 'mesh-b', data: b64('x') } }), 400, /mesh must match/);
  });

  it('names every invalid field of a body at once', async () => {
    const both = await http('PUT', `${global.url}/meshes/mesh-a/secrets/x`, { body: { name: 'y', mesh: 'mesh-b', data: b64('x') } });
    expect(both.json.invalid_parameters.map((p: { field: string }) => p.field)).toEqual(['name', 'mesh']);
    const schema = await http('PUT', `${global.url}/meshes/mesh-a/secrets/x`, { body: { type: 'Mesh', data: 'abc', extra: 1 } });
    expect(schema.json).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    expect(schema.json.invalid_parameters.map((p: { field: string }) => p.field).sort()).toEqual(['data', 'extra', 'type']);
  });
});

describe('unknown routes', () => {
  it('answer 404 problem+json', async () => {
    expectProblem(await http('GET', `${global.url}/no-such-thing`), 404, /no route GET \/no-such-thing/);
  });
});
