import { MeshAuthError } from '../errors.js';

/**
 * The one shape of a configuration mistake: the start stops with one line that begins
 * "invalid configuration:" and names the setting (main prints it without a stack).
 */
export function configError(reason: string, cause?: unknown): MeshAuthError {
  return new MeshAuthError('ERR_INVALID_CONFIG', `invalid configuration: ${reason}`, cause === undefined ? undefined : { cause });
}
