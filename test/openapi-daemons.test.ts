/**
 * The contract on real daemons: global and a zone syncing from it, each serving GET /openapi.json
 * on its API server (and the zone on its dp-server); live answers match the documents, and a
 * refusal's problem+json carries its code and an instance found on the daemon's log line.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, type HttpResult } from './support/http.js';
import { responseChecker, validateOpenApi, type OpenApiDocument } from './support/openapi.js';
import { startGlobal, startZone, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

describe('GET /openapi.json on the daemons', () => {
  const dir = tempDir();
  let global: Global;
  let zone: Daemon;
  let dpUrl: string;

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
    zone = await startZone('zone-1', join(dir.path, 'zone-1.db'), { mode: 'public', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-1') });
    dpUrl = `http://127.0.0.1:${zone.ready.dpServerPort as number}`;
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const documentOf = async (url: string) => {
    const answer = await http('GET', `${url}/openapi.json`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    return answer.json as OpenApiDocument;
  };

  /** `answer` is what the document says `method path` answers. */
  const expectDocumented = (doc: OpenApiDocument, method: string, path: string, answer: HttpResult) =>
    expect(responseChecker(doc)({ method, path, status: answer.status, contentType: answer.headers.get('content-type') ?? '', body: answer.text })).toBeUndefined();

  it('each server answers a valid OpenAPI 3.1 document of its own routes', async () => {
    const [globalDoc, zoneDoc, dpDoc] = await Promise.all([documentOf(global.url), documentOf(zone.url), documentOf(dpUrl)]);
    for (const doc of [globalDoc, zoneDoc, dpDoc]) expect(await validateOpenApi(doc)).toEqual({ valid: true });
    expect(globalDoc.paths).toHaveProperty(['/zones']);
    expect(globalDoc.paths).toHaveProperty(['/tokens/zone']);
    expect(zoneDoc.paths).toHaveProperty(['/sync/status']);
    expect(zoneDoc.paths).not.toHaveProperty(['/zones']);
    expect(Object.keys(dpDoc.paths).sort()).toEqual(['/bootstrap', '/openapi.json']);
  });

  it("a synced zone's status and global's zone list answer as documented", async () => {
    const [globalDoc, zoneDoc] = await Promise.all([documentOf(global.url), documentOf(zone.url)]);
    const status = await waitFor('zone connected', async () => {
      const answer = await http('GET', `${zone.url}/sync/status`);
      return answer.json?.state === 'connected' ? answer : undefined;
    });
    expectDocumented(zoneDoc, 'GET', '/sync/status', status);
    const zones = await waitFor('zone listed', async () => {
      const answer = await http('GET', `${global.url}/zones`);
      return answer.json?.items?.[0]?.connected === true ? answer : undefined;
    });
    expectDocumented(globalDoc, 'GET', '/zones', zones);
    expectDocumented(globalDoc, 'GET', '/', await http('GET', `${global.url}/`));
  });

  it("a refusal names every invalid field, its code, and an instance that is the reqId of the daemon's log line", async () => {
    const doc = await documentOf(global.url);
    const refused = await http('POST', `${global.url}/tokens/user`, { token: global.adminToken, body: { name: '', validFor: 'forever' } });
    expect(refused.status).toBe(400);
    expectDocumented(doc, 'POST', '/tokens/user', refused);
    expect(refused.json).toMatchObject({ code: 'ERR_BAD_REQUEST', invalid_parameters: [{ field: 'name' }, { field: 'validFor' }] });
    const line = await global.daemon.waitForLog((l) => l.reqId === refused.json.instance);
    expect(line).toMatchObject({ msg: 'request refused', status: 400, code: 'ERR_BAD_REQUEST', path: '/tokens/user' });

    const missing = await http('GET', `${dpUrl}/nothing`);
    expect(missing.json).toMatchObject({ status: 404, code: 'ERR_NOT_FOUND' });
    expect(await zone.waitForLog((l) => l.reqId === missing.json.instance)).toMatchObject({ msg: 'request refused', code: 'ERR_NOT_FOUND' });
  });
});
