import { status, type Metadata } from '@grpc/grpc-js';
import { isMeshAuthError, type TokenVerifier, type ZoneClaims } from '@meshauth/core';

export type ZoneRefusal = { ok: false; code: status; reason: string };

/** A zone's proof of who it is, held for as long as its stream is open. */
export interface ZoneCredential {
  /** The token's `Zone`. */
  zone: string;
  /** The token's `exp`, in epoch milliseconds. */
  expiresAtMs: number;
  /** Valid now? Expired, revoked, or its signing key removed → UNAUTHENTICATED with the verifier's reason. */
  check(): { ok: true } | ZoneRefusal;
}

export type ZoneAuthentication = { ok: true; credential: ZoneCredential } | ZoneRefusal;

/**
 * A zone proves who it is with a zone token of scope `cp` in `authorization: Bearer <jwt>`.
 * Missing, malformed, expired or revoked → UNAUTHENTICATED; valid but not scoped `cp` →
 * PERMISSION_DENIED. The reason goes to the zone and to global's log, never the token itself.
 * The token is held, not just checked: its stream re-checks it for as long as it is open.
 */
export function authenticateZone(metadata: Metadata, verifier: TokenVerifier<ZoneClaims>): ZoneAuthentication {
  const header = metadata.get('authorization')[0];
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return { ok: false, code: status.UNAUTHENTICATED, reason: 'missing zone token: send authorization: Bearer <zone token with scope cp>' };
  let held;
  try {
    held = verifier.hold(match[1]!);
  } catch (error) {
    return unauthenticated(error);
  }
  const { Zone, Scope, exp } = held.claims;
  // Claims are fixed by the signature: scope needs checking once, validity on every check().
  if (!Scope.includes('cp')) {
    return { ok: false, code: status.PERMISSION_DENIED, reason: `zone token of zone ${Zone} has scope ${Scope.join(',')}; syncing needs scope cp` };
  }
  const check = () => {
    try {
      held.recheck();
      return { ok: true as const };
    } catch (error) {
      return unauthenticated(error);
    }
  };
  return { ok: true, credential: { zone: Zone, expiresAtMs: exp * 1000, check } };
}

function unauthenticated(error: unknown): ZoneRefusal {
  if (isMeshAuthError(error)) return { ok: false, code: status.UNAUTHENTICATED, reason: error.message };
  throw error;
}
