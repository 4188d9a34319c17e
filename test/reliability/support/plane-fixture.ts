import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { binaries, startDaemon, tempDir, type Daemon } from '../../support/daemon.js';
import { readAdminToken } from '../../support/http.js';
import { rawRequest } from './raw-http.js';

export interface Plane {
  daemon: Daemon;
  url: string;
  storePath: string;
  adminToken: string;
  /** PEM of the user-token signing key that signs now (serial 1 on a fresh store). */
  userSigningKeyPem: string;
  userPublicKeyPem: string;
  dir: { path: string; remove(): void };
  /** SIGTERM, then remove the temp dir. */
  dispose(): Promise<void>;
}

export const zoneCpBuilt = (): boolean => existsSync(binaries['zone-cp']);

export async function adminGet(url: string, adminToken: string): Promise<any> {
  const res = await rawRequest(url, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${res.text}`);
  return res.json;
}

/** A plane on a fresh store in a temp dir, with its admin token and user-token signing key at hand. */
export async function startPlane(kind: 'global-cp' | 'zone-cp', env: Record<string, string> = {}): Promise<Plane> {
  const dir = tempDir(`meshauth-rel-${kind}-`);
  const storePath = join(dir.path, 'store.db');
  let daemon: Daemon;
  try {
    daemon = await startDaemon(kind, {
      MESHAUTH_STORE_SQLITE_PATH: storePath,
      ...(kind === 'zone-cp' ? { MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' } : {}),
      ...env,
    });
  } catch (error) {
    dir.remove();
    throw error;
  }
  const url = daemon.url;
  const adminToken = await readAdminToken(url);
  const keys = await adminGet(`${url}/tokens/user/signing-keys`, adminToken);
  const signer = keys.items.find((k: { signs: boolean }) => k.signs);
  const secret = await adminGet(`${url}/global-secrets/user-token-signing-key-${signer.serial}`, adminToken);
  return {
    daemon,
    url,
    storePath,
    adminToken,
    userSigningKeyPem: Buffer.from(secret.data, 'base64').toString('utf8'),
    userPublicKeyPem: signer.publicKeyPem,
    dir,
    async dispose() {
      await daemon.stop();
      dir.remove();
    },
  };
}
