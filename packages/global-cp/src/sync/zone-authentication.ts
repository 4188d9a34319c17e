import { status, type Metadata } from '@grpc/grpc-js';
import { isMeshAuthError, type TokenVerifier, type ZoneClaims } from '@meshauth/core';

export type ZoneAuthentication =
  | { ok: true; token: string; claims: ZoneClaims & { exp: number; jti: string } }
  | { ok: false; code: status; reason: string };

/**
 * A zone proves who it is with a zone token of scope `cp` in `authorization: Bearer <jwt>`.
 * Missing, malformed, expired or revoked → UNAUTHENTICATED; valid but not scoped `cp` →
 * PERMISSION_DENIED. The reason goes to the zone and to global's log, never the token itself.
 */
export function authenticateZone(metadata: Metadata, verifier: TokenVerifier<ZoneClaims>): ZoneAuthentication {
  const header = metadata.get('authorization')[0];
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return { ok: false, code: status.UNAUTHENTICATED, reason: 'missing zone token: send authorization: Bearer <zone token with scope cp>' };
  return verifyZoneToken(match[1]!, verifier);
}

/** Also used on every heartbeat, so a revoked or expired token ends a stream that is already open. */
export function verifyZoneToken(token: string, verifier: TokenVerifier<ZoneClaims>): ZoneAuthentication {
  let claims;
  try {
    claims = verifier.verify(token);
  } catch (error) {
    if (isMeshAuthError(error)) return { ok: false, code: status.UNAUTHENTICATED, reason: error.message };
    throw error;
  }
  if (!claims.Scope.includes('cp')) {
    return { ok: false, code: status.PERMISSION_DENIED, reason: `zone token of zone ${claims.Zone} has scope ${claims.Scope.join(',')}; syncing needs scope cp` };
  }
  return { ok: true, token, claims };
}
