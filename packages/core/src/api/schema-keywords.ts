import { BASE64_SLICE_CHARS, decodeBase64, parseValidFor } from './validate.js';

/**
 * Checks request schemas name with `x-` keywords, run by ajv in the same pass as the rest of the
 * schema: a body with a bad `name` and a bad `validFor` is answered with both (a check in the
 * handler would only run once the schema passed). Each returns why a value is invalid, or
 * undefined. /openapi.json shows the keywords as they are, beside a description saying the rule.
 */
export interface SchemaCheckOptions {
  /** Longest validFor accepted, ms (the configured maximum). */
  maxValidForMs: number;
}

type Check = (value: string, schemaValue: unknown) => string | undefined;

function checks(options: SchemaCheckOptions): Record<string, Check> {
  return {
    /** A Go duration, at least 1s, at most the configured maximum. */
    'x-duration': (value) => reasonOf(() => parseValidFor(value, options.maxValidForMs)),
    /**
     * Strict base64, as `base64` prints it. A value longer than a slice (a revocation list of
     * thousands) is checked by its handler as it decodes it in slices (`decodeBase64InSlices`):
     * here, in one synchronous pass, it would hold the event loop.
     */
    'x-base64': (value) => (value.length > BASE64_SLICE_CHARS ? undefined : reasonOf(() => decodeBase64(value))),
    /** A decimal integer (its pattern says so) no larger than the keyword's value. */
    'x-at-most': (value, max) => (Number(value) > (max as number) ? `must be at most ${String(max)}, got ${value}` : undefined),
    /** A time Date.parse reads (RFC 3339 and the like). */
    'x-time': (value) => (Number.isNaN(Date.parse(value)) ? `must be a time such as 2026-12-01T10:00:00Z, got ${JSON.stringify(value)}` : undefined),
  };
}

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    const invalid = (error as { invalidParameters?: { reason: string }[] }).invalidParameters;
    if (invalid?.[0] === undefined) throw error;
    return invalid[0].reason;
  }
}

/** What ajv needs of a keyword (structurally ajv's KeywordDefinition; core does not import ajv). */
export interface SchemaKeyword {
  keyword: string;
  type: 'string';
  schemaType: ('boolean' | 'number')[];
  errors: true;
  validate: ((schemaValue: unknown, data: string) => boolean) & { errors?: { keyword: string; message: string; params: Record<string, never> }[] };
}

/** ajv keyword definitions for fastify's `ajv.customOptions.keywords`. */
export function schemaKeywords(options: SchemaCheckOptions): SchemaKeyword[] {
  return Object.entries(checks(options)).map(([keyword, check]) => {
    const validate: SchemaKeyword['validate'] = (schemaValue, data) => {
      const reason = schemaValue === false ? undefined : check(data, schemaValue);
      validate.errors = reason === undefined ? [] : [{ keyword, message: reason, params: {} }];
      return reason === undefined;
    };
    return { keyword, type: 'string', schemaType: ['boolean', 'number'], errors: true, validate };
  });
}
