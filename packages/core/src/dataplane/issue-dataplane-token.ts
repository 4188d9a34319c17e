import type { Logger } from '../observability/logger.js';
import { ensureSigningKey } from '../plane/bootstrap-credentials.js';
import type { StoreTx } from '../store/store.js';
import type { DataplaneClaims } from '../tokens/claims.js';
import type { IssuedTokenRecords } from '../tokens/issued-token-records.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import type { TokenFamily } from '../tokens/token-family.js';

/** What a dataplane token binds: the proxy's name and mesh, its tags and type. */
export interface DataplaneTokenRequest {
  name: string;
  mesh: string;
  tags: Record<string, string[]>;
  type: string;
  validForMs: number;
}

export interface DataplaneTokenIssuingDeps {
  families: TokenFamilies;
  records: IssuedTokenRecords;
  /** The zone whose keys sign ('' on global): goes into the `Zone` claim. */
  zone: string;
  logger: Logger;
}

/**
 * Key creation in flight, per family. Two first requests for a new mesh would otherwise both
 * generate serial 1 and the second would replace the key that signed the first token. Keyed by
 * the family object, so the HTTP and HTTPS apps of one plane share it.
 */
const creatingKey = new WeakMap<TokenFamily, Promise<void>>();

function ensureMeshKey(family: TokenFamily, logger: Logger): Promise<void> {
  if (family.keys.size > 0) return Promise.resolve();
  let pending = creatingKey.get(family);
  if (!pending) {
    pending = ensureSigningKey(family, logger).finally(() => creatingKey.delete(family));
    creatingKey.set(family, pending);
  }
  return pending;
}

/**
 * Signs a dataplane token with the mesh's own highest-serial key, creating serial 1 on the first
 * token for that mesh. These keys belong to the plane that made them: their changes are logged
 * for the plane's own replicas, but the sync stream carries only the user-token family.
 */
/** Who asked, and the audit entry to write with the token's record. */
export interface IssueRecording {
  issuedBy: string;
  also?: (tx: StoreTx) => Promise<void>;
}

export async function issueDataplaneToken(deps: DataplaneTokenIssuingDeps, request: DataplaneTokenRequest, recording: IssueRecording): Promise<string> {
  const kind = deps.families.dataplane(request.mesh);
  await ensureMeshKey(kind.family, deps.logger);
  const claims: DataplaneClaims = { Name: request.name, Mesh: request.mesh, Tags: request.tags, Type: request.type, Zone: deps.zone };
  const subject = { kind: 'dataplane' as const, mesh: request.mesh, name: request.name };
  return deps.records.issue(kind, { ...claims }, request.validForMs, subject, recording.issuedBy, recording.also);
}
