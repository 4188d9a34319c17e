import { randomUUID } from 'node:crypto';
import { MeshAuthError } from '../errors.js';
import type { Clock } from '../clock.js';
import { signRs256 } from './jws-rs256.js';
import type { KeyRing } from './key-ring.js';

/** Backdating nbf allows five minutes of clock skew between planes, as the docs' example shows. */
export const NOT_BEFORE_SKEW_SECONDS = 300;

/** A token just signed, and its times in ms. */
export interface SignedToken {
  token: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
}

/**
 * Signs tokens of one family with its highest-serial private key. Claims come first in the
 * payload, then exp, nbf, iat, jti — the order of the docs' example token.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    private readonly label: string,
  ) {}

  async issue(claims: Record<string, unknown>, validForMs: number): Promise<string> {
    return (await this.sign(claims, validForMs)).token;
  }

  /** Like `issue`, with what an issued-token record keeps of it. */
  async sign(claims: Record<string, unknown>, validForMs: number): Promise<SignedToken> {
    const signer = this.keys.signer;
    if (!signer?.privateKey) {
      throw new MeshAuthError('ERR_CONFLICT', `no private ${this.label} signing key here to sign with`);
    }
    const iat = Math.floor(this.clock.now() / 1000);
    const payload = {
      ...claims,
      exp: iat + Math.floor(validForMs / 1000),
      nbf: iat - NOT_BEFORE_SKEW_SECONDS,
      iat,
      jti: randomUUID(),
    };
    const token = await signRs256({ alg: 'RS256', kid: String(signer.serial), typ: 'JWT' }, payload, signer.privateKey);
    return { token, jti: payload.jti, issuedAt: iat * 1000, expiresAt: payload.exp * 1000 };
  }
}
