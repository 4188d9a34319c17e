import { MeshAuthError } from '../errors.js';
import type { DataplaneClaims } from '../tokens/claims.js';
import { decodeJws, JwsFormatError } from '../tokens/jws-rs256.js';
import type { TokenFamilies } from '../tokens/token-families.js';
import { MAX_TOKEN_BYTES } from '../tokens/token-verifier.js';
import { BootstrapRefusal, reasonOf } from './bootstrap-refusal.js';

export interface BootstrapRequest {
  mesh: string;
  name: string;
  dataplaneToken: string;
}

/** Who the dataplane is, as its verified token says. */
export interface DataplaneIdentity {
  mesh: string;
  name: string;
  tags: Record<string, string[]>;
  type: string;
  zone: string;
}

/**
 * Decides whether a proxy may bootstrap as `name` in `mesh`: its token must verify against this
 * zone's keys for the mesh the token names (signature, exp, nbf, revocation — the one verifier),
 * come from this zone, and be for that very mesh and name. Throws a BootstrapRefusal naming why.
 *
 * The family is looked up, never created: the dp-server answers strangers, who must not be able
 * to make this plane hold state for meshes they invent.
 */
export function verifyBootstrap(families: TokenFamilies, zone: string, request: BootstrapRequest): DataplaneIdentity {
  const tokenMesh = claimedMesh(request.dataplaneToken);
  const kind = families.findDataplane(tokenMesh);
  if (!kind || kind.family.keys.size === 0) {
    throw new BootstrapRefusal('foreign-zone', 'ERR_TOKEN_KID', `dataplane token for mesh ${tokenMesh} was not issued by ${describeZone(zone)}, which has no signing key for that mesh`);
  }
  let claims: DataplaneClaims;
  try {
    claims = kind.verifier.verify(request.dataplaneToken);
  } catch (error) {
    if (!(error instanceof MeshAuthError)) throw error;
    const reason = reasonOf(error.code);
    const message = reason === 'foreign-zone' ? `${error.message}: it was not issued by ${describeZone(zone)}` : error.message;
    throw new BootstrapRefusal(reason, error.code, message);
  }
  // Defence in depth: a key copied between zones would verify, the Zone claim still tells.
  if (claims.Zone !== zone) {
    throw new BootstrapRefusal('foreign-zone', 'ERR_TOKEN_CLAIMS', `dataplane token was issued for ${describeZone(claims.Zone)}, not ${describeZone(zone)}`);
  }
  if (claims.Mesh !== request.mesh) {
    throw new BootstrapRefusal('other-mesh', 'ERR_TOKEN_CLAIMS', `dataplane token is for mesh ${claims.Mesh}, not ${request.mesh}`);
  }
  if (claims.Name !== request.name) {
    throw new BootstrapRefusal('other-name', 'ERR_TOKEN_CLAIMS', `dataplane token is for dataplane ${JSON.stringify(claims.Name)}, not ${JSON.stringify(request.name)}`);
  }
  return { mesh: claims.Mesh, name: claims.Name, tags: claims.Tags, type: claims.Type, zone: claims.Zone };
}

/** The mesh the token says it is for, read before verification only to pick the keys to verify with. */
function claimedMesh(token: string): string {
  if (token.length > MAX_TOKEN_BYTES) throw new BootstrapRefusal('malformed', 'ERR_TOKEN_MALFORMED', `dataplane token is larger than ${MAX_TOKEN_BYTES} bytes`);
  let mesh: unknown;
  try {
    mesh = decodeJws(token).payload.Mesh;
  } catch (error) {
    if (error instanceof JwsFormatError) throw new BootstrapRefusal('malformed', 'ERR_TOKEN_MALFORMED', `dataplane token is malformed: ${error.message}`);
    throw error;
  }
  if (typeof mesh !== 'string' || mesh.length === 0) {
    throw new BootstrapRefusal('malformed', 'ERR_TOKEN_CLAIMS', 'dataplane token has invalid claims: claim Mesh must be a non-empty string');
  }
  return mesh;
}

function describeZone(zone: string): string {
  return zone === '' ? 'the global control plane' : `zone ${zone}`;
}
