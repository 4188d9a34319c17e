import { MeshAuthError } from '../errors.js';
import type { Clock } from '../clock.js';
import { checkStandardClaims, type ClaimsCheck, type StandardClaims } from './claims.js';
import { decodeJws, JwsFormatError, verifyRs256, type DecodedJws } from './jws-rs256.js';
import type { KeyRing } from './key-ring.js';
import type { RevocationSet } from './revocation-set.js';
import type { SigningKey } from './signing-key.js';

export const MAX_TOKEN_BYTES = 8 * 1024;
/** 32 base64url characters: 192 bits of an RS256 signature, a key no two real tokens share. */
const cacheKey = (token: string) => token.slice(-32);
const serialKid = /^[1-9][0-9]{0,15}$/;

export interface TokenVerifierOptions {
  keys: KeyRing;
  revocations: RevocationSet;
  clock: Clock;
  /** "user token": used in every refusal message. */
  label: string;
  checkClaims: ClaimsCheck;
  /** A reason to refuse tokens of this key now (a zone cut off from global too long), or undefined. */
  refuseKey?: (key: SigningKey) => string | undefined;
  /** Verified tokens remembered; 0 turns the cache off. */
  cacheSize?: number;
}

/** A token verified once and checked again while it is in use (TokenVerifier.hold). */
export interface HeldToken<C> {
  readonly claims: C & StandardClaims;
  /** Throws what `verify` would throw now: expired, revoked, its key removed or replaced. */
  recheck(): void;
}

/** What `checkSignature` found: the claims a key signed, or a payload no held key can vouch for. */
export type SignatureCheck<C> =
  | { verified: true; claims: C & StandardClaims }
  /** Unverified: `payload` is whatever the token says; `reason` why it could not be checked. */
  | { verified: false; payload: Record<string, unknown>; reason: string };

interface Verified<C> {
  token: string;
  claims: C & StandardClaims;
  /** The key object that verified it: a hit is only good while the ring still holds this very key. */
  key: SigningKey;
}

/**
 * How a token is verified, in the order the spec gives: size and structure, alg exactly RS256,
 * kid present and a known serial, signature, exp, nbf, revocation, then the claims' types.
 *
 * A verified token is remembered. A hit skips only the RSA work: expiry, revocation and key
 * presence are checked on every call, so a revocation or a key removal applies to the very next
 * request. A hit is the exact text verified before; the cache is keyed by the text's last
 * characters (signature bytes), because hashing all ~600 characters of every request's token
 * string costs more than the rest of a hit. Another token with the same tail just misses. A hit
 * cannot be a second spelling of a verified token either: only canonical base64url decodes (see
 * `decodeJws`), so each token has exactly one text that verifies, and only that text is remembered.
 */
export class TokenVerifier<C> {
  private readonly cache = new Map<string, Verified<C>>();
  private readonly cacheSize: number;

  constructor(private readonly options: TokenVerifierOptions) {
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  verify(token: string): C & StandardClaims {
    return this.verifyRemembered(token).claims;
  }

  /**
   * For a credential re-checked for as long as it is in use (a zone's sync stream, every few
   * hundred milliseconds): `recheck` repeats exp, nbf, revocation and key presence, and the RSA
   * work only if the ring no longer holds the very key object that verified it. The token is
   * pinned here, not in the shared cache, whose first-in-first-out eviction would turn a sweep
   * over more streams than it has slots into an RSA verification per stream per sweep.
   */
  hold(token: string): HeldToken<C> {
    let verified = this.verifyRemembered(token);
    return {
      claims: verified.claims,
      recheck: () => {
        verified = this.checkNow(token, verified);
      },
    };
  }

  private verifyRemembered(token: string): Verified<C> {
    const tail = cacheKey(token);
    const entry = this.cache.get(tail);
    const verified = this.checkNow(token, entry?.token === token ? entry : undefined);
    if (verified !== entry) this.remember(tail, verified);
    return verified;
  }

  /** `known`: an earlier verification of this exact text, reused while its key is still in the ring. */
  private checkNow(token: string, known: Verified<C> | undefined): Verified<C> {
    const verified = known && this.options.keys.get(known.key.serial) === known.key ? known : this.verifySignature(token);
    const { claims, key } = verified;
    const refusal = this.options.refuseKey?.(key);
    if (refusal) throw this.fail('ERR_TOKEN_SYNC_STALE', refusal);
    const now = this.options.clock.now() / 1000;
    if (claims.exp <= now) throw this.fail('ERR_TOKEN_EXPIRED', `${this.options.label} expired at ${new Date(claims.exp * 1000).toISOString()}`);
    if (claims.nbf > now) throw this.fail('ERR_TOKEN_NOT_YET_VALID', `${this.options.label} is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
    if (this.options.revocations.has(claims.jti)) throw this.fail('ERR_TOKEN_REVOKED', `${this.options.label} is revoked`);
    return verified;
  }

  /**
   * The signature alone, with time and revocation set aside: what revoking a token may rely on.
   * It runs the same checks as `verify` up to and including the claims' types, and throws the same
   * refusals, except that a token whose kid names a key this ring does not hold (rotated out, or
   * not synced yet) is no refusal here but `verified: false`: nothing in it can be checked, so a
   * caller may use its claims only as far as trusting them gives nothing away.
   * An expired, not yet valid or revoked token verifies: it is still that token, and revoking it
   * again is harmless. The cache is neither read nor filled: this is not the request path.
   */
  checkSignature(token: string): SignatureCheck<C> {
    const { decoded, kid, key } = this.decodeWithKey(token);
    if (!key) return { verified: false, payload: decoded.payload, reason: this.keyMissing(kid).message };
    return { verified: true, claims: this.verifyWith(token, decoded, key).claims };
  }

  private verifySignature(token: string): Verified<C> {
    const { decoded, kid, key } = this.decodeWithKey(token);
    if (!key) throw this.keyMissing(kid);
    return this.verifyWith(token, decoded, key);
  }

  /** Size, structure, alg and kid: everything before the key is needed; and the key kid names, if held. */
  private decodeWithKey(token: string): { decoded: DecodedJws; kid: string; key: SigningKey | undefined } {
    const label = this.options.label;
    if (token.length > MAX_TOKEN_BYTES) throw this.fail('ERR_TOKEN_MALFORMED', `${label} is larger than ${MAX_TOKEN_BYTES} bytes`);
    let decoded;
    try {
      decoded = decodeJws(token);
    } catch (error) {
      if (error instanceof JwsFormatError) throw this.fail('ERR_TOKEN_MALFORMED', `${label} is malformed: ${error.message}`);
      throw error;
    }
    const { header } = decoded;
    if (header.alg !== 'RS256') throw this.fail('ERR_TOKEN_ALG', `${label} must be signed with RS256, got alg ${JSON.stringify(header.alg)}`);
    if (header.crit !== undefined) throw this.fail('ERR_TOKEN_MALFORMED', `${label} has unsupported crit header`);
    const kid = header.kid;
    if (typeof kid !== 'string' || !serialKid.test(kid)) {
      throw this.fail('ERR_TOKEN_KID', `${label} must name its signing key serial in the kid header`);
    }
    return { decoded, kid, key: this.options.keys.get(Number(kid)) };
  }

  private keyMissing(kid: string): MeshAuthError {
    const label = this.options.label;
    const rotated = this.options.keys.wasRemoved(Number(kid));
    return this.fail(
      rotated ? 'ERR_TOKEN_KEY_ROTATED' : 'ERR_TOKEN_KID',
      rotated
        ? `${label} was signed with signing key ${kid}, which has been rotated out; regenerate the token`
        : `${label} was signed with an unknown key (kid ${kid}): no signing key with that serial was ever held here`,
    );
  }

  /** Signature, then the claims' types: only a payload the key signed is looked at. */
  private verifyWith(token: string, decoded: DecodedJws, key: SigningKey): Verified<C> {
    const label = this.options.label;
    if (!verifyRs256(decoded, key.publicKey)) {
      throw this.fail('ERR_TOKEN_SIGNATURE', `${label} signature is invalid`);
    }
    const { payload } = decoded;
    const reason = checkStandardClaims(payload) ?? this.options.checkClaims(payload);
    if (reason) throw this.fail('ERR_TOKEN_CLAIMS', `${label} has invalid claims: ${reason}`);
    return { token, claims: payload as C & StandardClaims, key };
  }

  private remember(key: string, verified: Verified<C>): void {
    if (this.cacheSize === 0) return;
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, verified);
  }

  private fail(code: ConstructorParameters<typeof MeshAuthError>[0], message: string): MeshAuthError {
    return new MeshAuthError(code, message);
  }
}
