import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { envNameOf } from '../config/load-config.js';
import { MeshAuthError } from '../errors.js';
import type { Store } from '../store/store.js';
import { generateCertificate } from '../tls/certificate.js';

export interface ServerCertificate {
  cert: string;
  key: string;
  /** Where it came from, for the start log: `configured` files or `generated` (self-signed, stored). */
  origin: 'configured' | 'generated';
  /** SHA-256 fingerprint as OpenSSL prints it, so an operator can compare what a client sees. */
  fingerprint256: string;
}

/**
 * The certificate 5682 serves: the configured files, or a self-signed one generated on first
 * start and kept in the store so restarts (and clients that pinned it) see the same certificate.
 * Configured files are checked here (PEM, key matches cert) so a mistake stops the start with one
 * line naming the setting instead of an OpenSSL stack trace from deep inside the HTTPS server.
 * `settingPrefix` names the settings in those messages (`apiServer.https` → MESHAUTH_API_SERVER_HTTPS_…).
 */
export async function loadServerCertificate(
  store: Store,
  certFile: string,
  keyFile: string,
  storeKey = 'apiServer',
  settingPrefix = 'apiServer.https',
): Promise<ServerCertificate> {
  const certSetting = envNameOf(`${settingPrefix}.tlsCertFile`);
  const keySetting = envNameOf(`${settingPrefix}.tlsKeyFile`);
  if (certFile || keyFile) {
    if (!certFile || !keyFile) {
      const [set, unset] = certFile ? [certSetting, keySetting] : [keySetting, certSetting];
      throw invalid(`${set} is set but ${unset} is not; set both, or neither to use a generated self-signed certificate`);
    }
    const cert = readPem(certFile, certSetting);
    const key = readPem(keyFile, keySetting);
    const x509 = parse(() => new X509Certificate(cert), `${certSetting} (${certFile}) does not hold a PEM certificate`);
    const keyObject = parse<KeyObject>(() => createPrivateKey(key), `${keySetting} (${keyFile}) does not hold an unencrypted PEM private key`);
    if (!x509.checkPrivateKey(keyObject)) {
      throw invalid(`the key in ${keySetting} (${keyFile}) does not belong to the certificate in ${certSetting} (${certFile})`);
    }
    return { cert, key, origin: 'configured', fingerprint256: x509.fingerprint256 };
  }
  // Replicas starting together generate one certificate between them, not one each.
  const { cert, key } = await store.exclusive(`${storeKey}.tlsCertificate`, async () => {
    const stored = { cert: await store.read.getMeta(`${storeKey}.tlsCertPem`), key: await store.read.getMeta(`${storeKey}.tlsKeyPem`) };
    if (stored.cert && stored.key) return { cert: stored.cert, key: stored.key };
    const generated = generateCertificate({ type: 'server', hostnames: generatedHostnames() });
    await store.transaction(async (tx) => {
      await tx.setMeta(`${storeKey}.tlsCertPem`, generated.certPem);
      await tx.setMeta(`${storeKey}.tlsKeyPem`, generated.keyPem);
    });
    return { cert: generated.certPem, key: generated.keyPem };
  });
  return { cert, key, origin: 'generated', fingerprint256: new X509Certificate(cert).fingerprint256 };
}

/** Loopback, and this machine's name so clients that reach it by name can verify against the cert itself. */
function generatedHostnames(): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', hostname()].filter((name) => name !== ''))];
}

function readPem(path: string, setting: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw invalid(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function parse<T>(read: () => T, message: string): T {
  try {
    return read();
  } catch {
    throw invalid(message);
  }
}

function invalid(reason: string): MeshAuthError {
  return new MeshAuthError('ERR_INVALID_CONFIG', `invalid configuration: ${reason}`);
}
