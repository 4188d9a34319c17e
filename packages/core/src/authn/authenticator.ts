import { MeshAuthError } from '../errors.js';
import type { UserClaims } from '../tokens/claims.js';
import type { TokenVerifier } from '../tokens/token-verifier.js';
import { admin, anonymous, userIdentity, type Identity } from './identity.js';
import { isLocalhostAdminRequest, type RequestOrigin } from './localhost-admin.js';

export interface AuthenticatorOptions {
  type: 'tokens' | 'adminClientCerts';
  localhostIsAdmin: boolean;
  userTokens: TokenVerifier<UserClaims>;
}

export interface AuthnRequest extends RequestOrigin {
  /** The TLS layer verified a client certificate against the configured CA. */
  clientCertVerified: boolean;
}

/**
 * `Authorization: Bearer` as usual; `authentication: Bearer` because the docs' own curl example
 * sends that header, and it must work verbatim.
 */
export function bearerToken(headers: RequestOrigin['headers']): string | undefined {
  const value = headers.authorization ?? headers.authentication;
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] ?? '' : value;
  // Only the scheme is read here: a scan of the whole ~600-character token on every request would
  // cost more than the cache hit it precedes. Whitespace inside the token is still refused, as a
  // malformed token, by the verifier's structure check (a cached token is one that passed it).
  const token = text.slice(7).trim();
  if (!/^bearer\s/i.test(text.slice(0, 7)) || token === '') {
    throw new MeshAuthError('ERR_TOKEN_MALFORMED', 'the Authorization header must be "Bearer <token>"');
  }
  return token;
}

/** Decides who a request is. Throws a 401 MeshAuthError for a token that does not verify. */
export function createAuthenticator(options: AuthenticatorOptions): (req: AuthnRequest) => Identity {
  // A verified token's claims object is reused while it stays cached in the verifier, and so is
  // the identity made from it.
  const identities = new WeakMap<object, Identity>();
  return (req) => {
    if (options.type === 'adminClientCerts') {
      // As in Kuma: in this (deprecated) mode only a verified client certificate makes an admin.
      // User tokens are ignored, not refused: the request is judged as if it carried none, since a
      // 401 "bad token" would suggest tokens are checked here at all. Access rules then answer 403
      // naming mesh-system:anonymous, which tells the caller what the server saw.
      if (req.clientCertVerified) return admin;
      return options.localhostIsAdmin && isLocalhostAdminRequest(req) ? admin : anonymous;
    }
    const token = bearerToken(req.headers);
    if (token !== undefined) {
      const claims = options.userTokens.verify(token);
      let identity = identities.get(claims);
      if (!identity) {
        identity = userIdentity(claims.Name, claims.Groups);
        identities.set(claims, identity);
      }
      return identity;
    }
    return options.localhostIsAdmin && isLocalhostAdminRequest(req) ? admin : anonymous;
  };
}
