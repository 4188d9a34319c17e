import { MeshAuthError, type ErrorCode } from '../errors.js';

/** Why a dp-server refused a dataplane: stable, for proxies and tests to switch on. */
export type BootstrapRefusalReason =
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'key-rotated'
  | 'foreign-zone'
  | 'other-mesh'
  | 'other-name';

/** A 401 from the dp-server, carrying the reason beside the usual code and message. */
export class BootstrapRefusal extends MeshAuthError {
  constructor(
    readonly reason: BootstrapRefusalReason,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'BootstrapRefusal';
  }
}

/** The verifier's codes, as reasons a proxy operator can act on. */
export function reasonOf(code: ErrorCode): BootstrapRefusalReason {
  switch (code) {
    case 'ERR_TOKEN_EXPIRED':
      return 'expired';
    case 'ERR_TOKEN_NOT_YET_VALID':
      return 'not-yet-valid';
    case 'ERR_TOKEN_REVOKED':
      return 'revoked';
    case 'ERR_TOKEN_KEY_ROTATED':
      return 'key-rotated';
    // No key of ours with that serial, or one that does not verify it: another zone signed it.
    case 'ERR_TOKEN_KID':
    case 'ERR_TOKEN_SIGNATURE':
      return 'foreign-zone';
    default:
      return 'malformed';
  }
}
