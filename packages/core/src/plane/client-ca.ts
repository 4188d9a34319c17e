import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MeshAuthError } from '../errors.js';

/** The CAs trusted for admin client certificates: a PEM file, or every .pem/.crt in a directory. */
export function loadClientCa(path: string): string[] {
  if (!path) {
    throw new MeshAuthError(
      'ERR_INVALID_CONFIG',
      'invalid configuration: apiServer.authn.type adminClientCerts needs MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE',
    );
  }
  try {
    if (statSync(path).isDirectory()) {
      return readdirSync(path)
        .filter((f) => /\.(pem|crt)$/i.test(f))
        .sort()
        .map((f) => readFileSync(join(path, f), 'utf8'));
    }
    return [readFileSync(path, 'utf8')];
  } catch (error) {
    throw new MeshAuthError('ERR_INVALID_CONFIG', `cannot read client CA ${path}: ${(error as Error).message}`);
  }
}
