import type { FastifyError } from 'fastify';
import type { InvalidParameter } from '../errors.js';

/**
 * One entry per failed check of a request schema (ajv runs with allErrors, so every invalid field
 * is here, not only the first), named by the field's dotted path.
 */
export function invalidParametersOf(error: FastifyError): InvalidParameter[] {
  return (error.validation ?? []).map((v) => {
    const at = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const params = v.params as { additionalProperty?: string; missingProperty?: string };
    // Name the unknown or missing field itself, not the object holding it.
    if (v.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
      return { field: at ? `${at}.${params.additionalProperty}` : params.additionalProperty, reason: 'is not a known field' };
    }
    const missing = params.missingProperty;
    const field = missing !== undefined ? (at ? `${at}.${missing}` : missing) : at || (error.validationContext ?? 'body');
    return { field, reason: v.message ?? 'is invalid' };
  });
}
