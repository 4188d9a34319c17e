import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { buildHostileJwtCorpus, type HostileCase } from '../support/hostile-jwts.js';
import { startZone, waitForZoneCaughtUp } from '../support/multizone.js';
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

interface Target {
  /** Where the hostile requests go. */
  url: string;
  corpus: HostileCase[];
  /** A token the target must accept: proves refusals below are about the token, not the setup. */
  validToken: string;
  dispose(): Promise<void>;
}

async function corpusFor(issuer: Plane, kind: 'global-cp' | 'zone-cp'): Promise<HostileCase[]> {
  return buildHostileJwtCorpus({
    signingKeyPem: issuer.userSigningKeyPem,
    publicKeyPem: issuer.userPublicKeyPem,
    revokedToken: await revokedUserToken(issuer),
    otherFamilyToken: await otherFamilyToken(issuer, kind),
  });
}

/** Global; a zone on its own keys; a zone verifying with keys and revocations synced from global. */
const setups: { name: string; available: boolean; start(): Promise<Target> }[] = [
  {
    name: 'global-cp',
    available: true,
    async start() {
      const plane = await startPlane('global-cp');
      return { url: plane.url, corpus: await corpusFor(plane, 'global-cp'), validToken: plane.adminToken, dispose: () => plane.dispose() };
    },
  },
  {
    name: 'a standalone zone-cp',
    available: zoneCpBuilt(),
    async start() {
      const plane = await startPlane('zone-cp');
      return { url: plane.url, corpus: await corpusFor(plane, 'zone-cp'), validToken: plane.adminToken, dispose: () => plane.dispose() };
    },
  },
  {
    name: 'a zone-cp synced from global (public mode)',
    available: zoneCpBuilt(),
    async start() {
      const global = await startPlane('global-cp');
      const zone = await startZone(global, { name: 'zone-1', syncPort: global.daemon.ready.syncPort as number });
      const corpus = await corpusFor(global, 'global-cp');
      await waitForZoneCaughtUp(global, zone.daemon.url);
      return {
        url: zone.daemon.url,
        corpus,
        validToken: global.adminToken,
        async dispose() {
          await zone.daemon.stop();
          await global.dispose();
        },
      };
    },
  },
];

for (const setup of setups) {
  describe.skipIf(!setup.available)(`hostile JWTs are refused with 401 on ${setup.name}`, () => {
    let target: Target;
    const corpus = new Map<string, HostileCase>();

    beforeAll(async () => {
      target = await setup.start();
      for (const c of target.corpus) corpus.set(c.name, c);
    });

    afterAll(async () => {
      await target?.dispose();
      await stopAll();
    });

    it('has at least 50 cases, and accepts a valid token (the control)', async () => {
      expect(corpus.size).toBe(caseNames.length);
      expect(caseNames.length).toBeGreaterThanOrEqual(50);
      const control = await rawRequest(`${target.url}/who-am-i`, { headers: { authorization: `Bearer ${target.validToken}` } });
      expect(control.status, control.text).toBe(200);
    });

    it.each(caseNames)('%s', async (name) => {
      const hostile = corpus.get(name)!;
      // From localhost, where no token at all would mean admin: a token that is ignored instead of
      // refused would show up here as a 200.
      const res = await rawRequest(`${target.url}/who-am-i`, { headers: hostile.headers });
      expect(res.status, res.text).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json).toMatchObject({ status: 401, title: 'Unauthorized' });
      const token = Object.values(hostile.headers)[0]!.replace(/^\S+\s*/, '');
      if (token.length > 16) expect(res.text).not.toContain(token);
      // The plane is still serving.
      expect((await rawRequest(`${target.url}/`)).status).toBe(200);
    });
  });
}
