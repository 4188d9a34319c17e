import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { buildHostileJwtCorpus, type HostileCase } from '../support/hostile-jwts.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';

// Case names are known before any daemon runs, so each case is its own counted test.
const throwaway = generateKeyPairSync('rsa', { modulusLength: 1024 });
const caseNames = buildHostileJwtCorpus({
  signingKeyPem: throwaway.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  publicKeyPem: throwaway.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  revokedToken: 'a.b.c',
  otherFamilyToken: 'a.b.c',
}).map((c) => c.name);

async function revokedUserToken(plane: Plane): Promise<string> {
  const issued = await jsonRequest('POST', `${plane.url}/tokens/user`, { name: 'revoked-user', groups: ['mesh-system:admin'], validFor: '1h' }, plane.adminToken);
  expect(issued.status).toBe(200);
  const revoked = await jsonRequest('POST', `${plane.url}/tokens/user/revocations`, { token: issued.text }, plane.adminToken);
  expect(revoked.status).toBe(201);
  return issued.text;
}

/** A real token of another family: a zone token on global, a dataplane token on a zone. */
async function otherFamilyToken(plane: Plane, kind: 'global-cp' | 'zone-cp'): Promise<string> {
  const res =
    kind === 'global-cp'
      ? await jsonRequest('POST', `${plane.url}/tokens/zone`, { zone: 'zone-1', scope: ['cp'], validFor: '1h' }, plane.adminToken)
      : await jsonRequest('POST', `${plane.url}/tokens/dataplane`, { name: 'dp-1', mesh: 'default', validFor: '1h' }, plane.adminToken);
  expect(res.status).toBe(200);
  return res.text;
}

const planes = [
  { kind: 'global-cp' as const, available: true },
  { kind: 'zone-cp' as const, available: zoneCpBuilt() },
];

for (const { kind, available } of planes) {
  describe.skipIf(!available)(`hostile JWTs are refused with 401 on ${kind}`, () => {
    let plane: Plane;
    const corpus = new Map<string, HostileCase>();

    beforeAll(async () => {
      plane = await startPlane(kind);
      for (const c of buildHostileJwtCorpus({
        signingKeyPem: plane.userSigningKeyPem,
        publicKeyPem: plane.userPublicKeyPem,
        revokedToken: await revokedUserToken(plane),
        otherFamilyToken: await otherFamilyToken(plane, kind),
      })) {
        corpus.set(c.name, c);
      }
    });

    afterAll(async () => {
      await plane?.dispose();
      await stopAll();
    });

    it('has at least 50 cases', () => {
      expect(corpus.size).toBe(caseNames.length);
      expect(caseNames.length).toBeGreaterThanOrEqual(50);
    });

    it.each(caseNames)('%s', async (name) => {
      const hostile = corpus.get(name)!;
      // From localhost, where no token at all would mean admin: a token that is ignored instead of
      // refused would show up here as a 200.
      const res = await rawRequest(`${plane.url}/who-am-i`, { headers: hostile.headers });
      expect(res.status, res.text).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized' });
      const token = Object.values(hostile.headers)[0]!.replace(/^\S+\s*/, '');
      if (token.length > 16) expect(res.text).not.toContain(token);
      // The plane is still serving.
      expect((await rawRequest(`${plane.url}/`)).status).toBe(200);
    });
  });
}
