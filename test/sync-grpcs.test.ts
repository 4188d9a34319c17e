import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '@meshauth/core';
import { stopAll, tempDir } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, startZone, syncStatus, writeZoneToken, type Global } from './support/sync-cluster.js';
import { itServesTheTlsPolicy } from './support/tls-policy.js';
import { waitFor } from './support/wait-for.js';

/** grpcs://: global serves the sync port with multizone.global.tlsCertFile/KeyFile; zones trust it via globalCaFile. */
describe('sync over TLS', () => {
  const dir = tempDir();
  const caFile = join(dir.path, 'sync.crt');
  const otherCaFile = join(dir.path, 'other.crt');
  let global: Global;

  beforeAll(async () => {
    const server = generateCertificate({ type: 'server', hostnames: ['127.0.0.1', 'localhost'] });
    writeFileSync(caFile, server.certPem);
    writeFileSync(join(dir.path, 'sync.key'), server.keyPem, { mode: 0o600 });
    writeFileSync(otherCaFile, generateCertificate({ type: 'server', hostnames: ['127.0.0.1'] }).certPem);
    global = await startGlobal(join(dir.path, 'global.db'), {
      MESHAUTH_MULTIZONE_GLOBAL_TLS_CERT_FILE: caFile,
      MESHAUTH_MULTIZONE_GLOBAL_TLS_KEY_FILE: join(dir.path, 'sync.key'),
    });
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  const zone = async (name: string, caFileOfZone: string) =>
    startZone(name, join(dir.path, `${name}.db`), {
      globalAddress: `grpcs://127.0.0.1:${global.syncPort}`,
      tokenFile: await writeZoneToken(global, dir.path, name),
      env: { MESHAUTH_MULTIZONE_ZONE_GLOBAL_CA_FILE: caFileOfZone },
    });

  it('a zone trusting global\'s certificate syncs over grpcs', async () => {
    const z = await zone('zone-tls', caFile);
    const token = await issueUserToken(global.url, global.adminToken, 'alice', []);
    await waitFor('token accepted on the zone', async () => (await http('GET', `${z.url}/who-am-i`, { token })).status === 200);
    expect(await syncStatus(z)).toMatchObject({ state: 'connected', globalAddress: expect.stringMatching(/^grpcs:/) });
  });

  // gRPC speaks HTTP/2: offer h2 as a real client would.
  describe('TLS policy on the sync port', () => itServesTheTlsPolicy(() => global.syncPort, { ALPNProtocols: ['h2'] }));

  it('a zone trusting another CA refuses to talk to global', async () => {
    const z = await zone('zone-wrong-ca', otherCaFile);
    const status = await waitFor('a TLS failure', async () => {
      const s = await syncStatus(z);
      return s.lastError && s;
    });
    expect(status).toMatchObject({ state: expect.not.stringMatching(/^connected$/), appliedVersion: 0 });
    expect((await http('GET', `${z.url}/tokens/user/signing-keys`)).json.items).toEqual([]);
  });
});
