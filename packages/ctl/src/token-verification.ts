import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { ResponseError } from './errors.js';
import type { DecodedJwt } from './jwt-decode.js';
import { formatSpan } from './token-inspection.js';

export type Verdict =
  | 'valid'
  | 'expired'
  | 'not yet valid'
  | 'revoked'
  | 'unknown key'
  | 'invalid signature'
  | 'unsupported algorithm'
  | 'rejected';

export interface VerificationResult {
  verdict: Verdict;
  /** The reason as the control plane or meshctl phrased it. */
  detail?: string;
}

export interface Jwks {
  keys: Array<JsonWebKey & { kid?: string }>;
}

/** How the control plane took the token: `GET /who-am-i` with it. */
export type ServerAnswer = { accepted: true } | { accepted: false; detail: string };

export interface VerifyDependencies {
  fetchJwks(): Promise<Jwks>;
  askServer(token: string): Promise<ServerAnswer>;
  now(): Date;
}

/**
 * Checks a user token — expiry, then key and signature the way the control plane does — against its
 * published JWKS, then asks the control plane itself, which alone knows about revocations.
 */
export async function verifyToken(
  token: DecodedJwt,
  raw: string,
  deps: VerifyDependencies,
): Promise<VerificationResult> {
  // Expiry first: an old token is expired whatever else is wrong with it, and saying so is the useful answer.
  const now = deps.now().getTime() / 1000;
  const { exp, nbf } = token.payload;
  if (typeof exp === 'number' && exp <= now) return { verdict: 'expired', detail: `exp passed ${formatSpan(now - exp)} ago` };
  if (typeof nbf === 'number' && nbf > now) return { verdict: 'not yet valid', detail: `nbf is ${formatSpan(nbf - now)} from now` };
  if (token.header['alg'] !== 'RS256') {
    return { verdict: 'unsupported algorithm', detail: `alg is ${String(token.header['alg'])}, expected RS256` };
  }
  const kid = token.header['kid'];
  const jwks = await deps.fetchJwks();
  const jwk = jwks.keys.find((key) => key.kid === kid);
  if (jwk === undefined) {
    return { verdict: 'unknown key', detail: `the control plane has no signing key with kid ${String(kid)}` };
  }
  if (!signatureMatches(token, jwk)) {
    return { verdict: 'invalid signature', detail: `signature does not match key ${String(kid)}` };
  }
  const answer = await deps.askServer(raw);
  if (answer.accepted) return { verdict: 'valid' };
  return { verdict: verdictFromRejection(answer.detail), detail: answer.detail };
}

/** Maps the control plane's 401 detail onto a verdict. */
export function verdictFromRejection(detail: string): Verdict {
  const text = detail.toLowerCase();
  if (text.includes('revoked')) return 'revoked';
  if (text.includes('expired')) return 'expired';
  if (text.includes('not yet valid') || text.includes('not valid before')) return 'not yet valid';
  if (['rotated', 'unknown key', 'unknown signing key', 'kid'].some((word) => text.includes(word))) return 'unknown key';
  if (text.includes('signature')) return 'invalid signature';
  return 'rejected';
}

function signatureMatches(token: DecodedJwt, jwk: JsonWebKey): boolean {
  let key;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch (err) {
    throw new ResponseError(`the control plane's JWKS key ${String(jwk.kid)} is not a usable public key: ${(err as Error).message}`);
  }
  return verify('sha256', Buffer.from(token.signingInput), key, Buffer.from(token.signature, 'base64url'));
}
