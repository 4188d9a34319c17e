import { createServer as createHttpsServer } from 'node:https';
import { createServer } from 'node:net';
import { generateCertificate } from '@meshauth/core';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './api-client.js';
import { startFakeControlPlane, problem, type FakeControlPlane } from './test-support/fake-control-plane.js';

/** A port nothing listens on: bind one, then free it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('api client', () => {
  let cp: FakeControlPlane | undefined;
  afterEach(async () => {
    await cp?.close();
    cp = undefined;
  });

  it('sends the token as a bearer header and JSON bodies', async () => {
    cp = await startFakeControlPlane(() => ({ contentType: 'text/plain', body: 'eyJ.token.x' }));
    const client = createApiClient({ url: `${cp.url}/`, token: 'my-token' });
    const body = { name: 'john', groups: ['team-a'], validFor: '24h' };
    expect(await client.text('POST', '/tokens/user', { body })).toBe('eyJ.token.x');
    const [req] = cp.requests;
    expect(req?.url).toBe('/tokens/user');
    expect(req?.headers['authorization']).toBe('Bearer my-token');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req?.body ?? '')).toEqual(body);
  });

  it('can send another token, or none, for one request', async () => {
    cp = await startFakeControlPlane(() => ({ body: {} }));
    const client = createApiClient({ url: cp.url, token: 'mine' });
    await client.json('GET', '/who-am-i', { token: 'theirs' });
    await client.json('GET', '/.well-known/jwks.json', { token: null });
    expect(cp.requests.map((r) => r.headers['authorization'])).toEqual(['Bearer theirs', undefined]);
  });

  it('turns a problem+json answer into a one-line error naming the problem', async () => {
    cp = await startFakeControlPlane(() => problem(401, 'Unauthorized', 'token expired'));
    const client = createApiClient({ url: cp.url });
    await expect(client.json('GET', '/who-am-i')).rejects.toMatchObject({
      code: 'ERR_API',
      status: 401,
      message: '401 Unauthorized: token expired',
    });
  });

  it('names the access rule a 403 refers to, and invalid parameters', async () => {
    cp = await startFakeControlPlane((req) =>
      req.url === '/tokens/user'
        ? problem(403, 'Forbidden', 'user "john" is not allowed to generateUserToken')
        : problem(400, 'Bad Request', 'invalid body', { invalid_parameters: [{ field: 'validFor', reason: 'must be > 0' }] }),
    );
    const client = createApiClient({ url: cp.url });
    await expect(client.text('POST', '/tokens/user', { body: {} })).rejects.toThrow(
      '403 Forbidden: user "john" is not allowed to generateUserToken',
    );
    await expect(client.text('POST', '/tokens/zone', { body: {} })).rejects.toThrow(
      '400 Bad Request: invalid body (validFor: must be > 0)',
    );
  });

  it('reports a non-problem error by status and the first line of the body', async () => {
    cp = await startFakeControlPlane(() => ({ status: 502, contentType: 'text/html', body: 'upstream down\n<html>' }));
    await expect(createApiClient({ url: cp.url }).json('GET', '/')).rejects.toThrow('502 Bad Gateway: upstream down');
  });

  it('returns any status from request() without throwing', async () => {
    cp = await startFakeControlPlane(() => problem(401, 'Unauthorized', 'user token is revoked'));
    const res = await createApiClient({ url: cp.url }).request('GET', '/who-am-i');
    expect(res.status).toBe(401);
    expect(res.contentType).toBe('application/problem+json');
  });

  it('says "connection refused" with the address when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    await expect(createApiClient({ url }).json('GET', '/')).rejects.toMatchObject({
      code: 'ERR_CONNECTION',
      message: `cannot reach control plane at ${url}: connection refused`,
    });
  });

  it('names the TLS problem when https:// meets a plain HTTP port', async () => {
    cp = await startFakeControlPlane(() => ({ body: {} }));
    const url = cp.url.replace('http:', 'https:');
    await expect(createApiClient({ url, tls: { rejectUnauthorized: true } }).json('GET', '/')).rejects.toThrow(
      `TLS error talking to control plane at ${url}: the server does not speak TLS on this port`,
    );
  });

  describe('over https', () => {
    const { certPem, keyPem } = generateCertificate({ type: 'server', hostnames: ['localhost'] });
    let url = '';
    let close = () => {};
    beforeAll(async () => {
      const server = createHttpsServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('{"ok":true}'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://localhost:${(server.address() as AddressInfo).port}`;
      close = () => server.close();
    });
    afterAll(() => close());

    it('names an untrusted self-signed server certificate and the fix', async () => {
      await expect(createApiClient({ url, tls: { rejectUnauthorized: true } }).json('GET', '/')).rejects.toThrow(
        `TLS error talking to control plane at ${url}: the server certificate is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT); set --ca-cert-file (or --skip-verify) on the control plane`,
      );
    });

    it('trusts the certificate given as CA, or none with skip-verify', async () => {
      const ca = Buffer.from(certPem);
      await expect(createApiClient({ url, tls: { ca, rejectUnauthorized: true } }).json('GET', '/')).resolves.toEqual({ ok: true });
      await expect(createApiClient({ url, tls: { rejectUnauthorized: false } }).json('GET', '/')).resolves.toEqual({ ok: true });
    });

    it('names a certificate issued for another host', async () => {
      const ip = url.replace('localhost', '127.0.0.1');
      await expect(createApiClient({ url: ip, tls: { ca: Buffer.from(certPem), rejectUnauthorized: true } }).json('GET', '/')).rejects.toThrow(
        'the server certificate does not name this host (ERR_TLS_CERT_ALTNAME_INVALID)',
      );
    });
  });

  it('refuses answers over the response cap, and takes a large revocation list by default', async () => {
    cp = await startFakeControlPlane(() => ({ contentType: 'text/plain', body: 'x'.repeat(1024 * 1024 + 1) }));
    await expect(createApiClient({ url: cp.url, maxResponseBytes: 1024 * 1024 }).text('GET', '/')).rejects.toMatchObject({ code: 'ERR_RESPONSE' });
    await expect(createApiClient({ url: cp.url }).text('GET', '/')).resolves.toHaveLength(1024 * 1024 + 1);
  });

  it('gives up on a server that never answers', async () => {
    cp = await startFakeControlPlane(() => new Promise(() => {}));
    await expect(createApiClient({ url: cp.url, timeoutMs: 100 }).json('GET', '/')).rejects.toThrow(
      `control plane at ${cp.url} did not answer within 0.1s`,
    );
  });

  it('says what JSON it could not read', async () => {
    cp = await startFakeControlPlane(() => ({ contentType: 'application/json', body: 'not json' }));
    await expect(createApiClient({ url: cp.url }).json('GET', '/zones')).rejects.toThrow('answered GET /zones with invalid JSON');
  });
});
