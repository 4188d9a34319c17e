import { appendFileSync, closeSync, openSync } from 'node:fs';
import { MeshAuthError } from '../errors.js';
import type { AuditEntry } from './audit-log.js';

/** Where entries go besides the store, for shipping to a SIEM: one JSON object per line. */
export interface AuditSink {
  append(entry: AuditEntry): void;
}

/**
 * Appends JSON lines to `path` (created mode 0600). Synchronous, so a line is in the file before
 * the action's transaction commits; a file that cannot be written fails the action (503). The
 * file is opened once at start, so a bad path stops the start rather than the first action.
 */
export function createAuditFileSink(path: string): AuditSink {
  try {
    closeSync(openSync(path, 'a', 0o600));
  } catch (error) {
    throw new MeshAuthError('ERR_INVALID_CONFIG', `audit.file (MESHAUTH_AUDIT_FILE): cannot open ${path} for appending: ${(error as Error).message}`);
  }
  return {
    append(entry) {
      try {
        appendFileSync(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      } catch (error) {
        throw new MeshAuthError('ERR_AUDIT_UNAVAILABLE', `cannot append to the audit file ${path}: ${(error as Error).message}; nothing was changed`, { cause: error });
      }
    },
  };
}
