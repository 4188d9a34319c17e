/**
 * Every error meshauth reports to a caller is a MeshAuthError with a stable `code`.
 * Callers and tests switch on `code`; `status` is what the HTTP API answers with.
 * The registry below is the one place that ties a code to its HTTP status and title.
 */
export const errorRegistry = {
  ERR_BAD_REQUEST: { status: 400, title: 'Bad Request' },
  ERR_INVALID_CONFIG: { status: 500, title: 'Invalid Configuration' },
  ERR_TOKEN_MALFORMED: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_ALG: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_KID: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_KEY_ROTATED: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_SIGNATURE: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_EXPIRED: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_REVOKED: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_CLAIMS: { status: 401, title: 'Unauthorized' },
  ERR_TOKEN_SYNC_STALE: { status: 401, title: 'Unauthorized' },
  ERR_FORBIDDEN: { status: 403, title: 'Forbidden' },
  ERR_NOT_FOUND: { status: 404, title: 'Not Found' },
  ERR_CONFLICT: { status: 409, title: 'Conflict' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload Too Large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Media Type' },
  ERR_STORE_UNAVAILABLE: { status: 503, title: 'Store Unavailable' },
  ERR_AUDIT_UNAVAILABLE: { status: 503, title: 'Audit Log Unavailable' },
  ERR_INTERNAL: { status: 500, title: 'Internal Server Error' },
} as const;

export type ErrorCode = keyof typeof errorRegistry;

export interface InvalidParameter {
  field: string;
  reason: string;
}

export class MeshAuthError extends Error {
  readonly code: ErrorCode;
  readonly invalidParameters: InvalidParameter[] | undefined;

  constructor(code: ErrorCode, message: string, options?: { invalidParameters?: InvalidParameter[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshAuthError';
    this.code = code;
    this.invalidParameters = options?.invalidParameters;
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  get title(): string {
    return errorRegistry[this.code].title;
  }
}

/** Shorthand for the common 400 naming one field. */
export function badRequest(field: string, reason: string): MeshAuthError {
  return new MeshAuthError('ERR_BAD_REQUEST', `${field}: ${reason}`, { invalidParameters: [{ field, reason }] });
}

/** A 400 naming every invalid field at once (`what`: body, querystring, …). */
export function invalidFields(what: string, params: InvalidParameter[]): MeshAuthError {
  return new MeshAuthError('ERR_BAD_REQUEST', `invalid ${what}: ${params.map((p) => `${p.field} ${p.reason}`).join('; ')}`, { invalidParameters: params });
}

export function isMeshAuthError(error: unknown): error is MeshAuthError {
  return error instanceof MeshAuthError;
}
