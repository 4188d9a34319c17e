import { readFileSync } from 'node:fs';
import { MeshAuthError } from '../errors.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { generateCertificate } from '../tls/certificate.js';

/**
 * The certificate 5682 serves: the configured files, or a self-signed one generated on first
 * start and kept in the store so restarts (and clients that pinned it) see the same certificate.
 */
export function loadServerCertificate(store: SqliteStore, certFile: string, keyFile: string, storeKey = 'apiServer'): { cert: string; key: string } {
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new MeshAuthError('ERR_INVALID_CONFIG', 'invalid configuration: set both the TLS cert file and the TLS key file, or neither');
    try {
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    } catch (error) {
      throw new MeshAuthError('ERR_INVALID_CONFIG', `cannot read TLS certificate/key: ${(error as Error).message}`);
    }
  }
  const cert = store.getMeta(`${storeKey}.tlsCertPem`);
  const key = store.getMeta(`${storeKey}.tlsKeyPem`);
  if (cert && key) return { cert, key };
  const generated = generateCertificate({ type: 'server' });
  store.transaction(() => {
    store.setMeta(`${storeKey}.tlsCertPem`, generated.certPem);
    store.setMeta(`${storeKey}.tlsKeyPem`, generated.keyPem);
  });
  return { cert: generated.certPem, key: generated.keyPem };
}
