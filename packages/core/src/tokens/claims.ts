/**
 * The claims of each kind of token meshauth issues, with the checks a verifier applies to a
 * payload whose signature already verified. Claim names follow Kuma's (capitalized), so tokens look
 * like the docs' example.
 */
export interface StandardClaims {
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
}

export interface UserClaims {
  Name: string;
  Groups: string[];
}

export type ZoneScope = 'cp' | 'ingress' | 'egress';
export const zoneScopes: readonly ZoneScope[] = ['cp', 'ingress', 'egress'];

export interface ZoneClaims {
  Zone: string;
  Scope: ZoneScope[];
}

export interface DataplaneClaims {
  Name: string;
  Mesh: string;
  Tags: Record<string, string[]>;
  Type: string;
  /** The zone whose keys signed it; a token from another zone fails its signature anyway. */
  Zone: string;
}

/** Returns the reason a claim is wrong, or undefined. */
export type ClaimsCheck = (payload: Record<string, unknown>) => string | undefined;

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

export const checkStandardClaims: ClaimsCheck = (p) => {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (!Number.isFinite(p[claim])) return `claim ${claim} must be a number`;
  }
  if (!isString(p.jti) || p.jti.length === 0 || p.jti.length > 128) return 'claim jti must be a non-empty string';
  return undefined;
};

export const checkUserClaims: ClaimsCheck = (p) => {
  if (!isString(p.Name) || p.Name.length === 0) return 'claim Name must be a non-empty string';
  if (!isStringArray(p.Groups)) return 'claim Groups must be a list of strings';
  return undefined;
};

export const checkZoneClaims: ClaimsCheck = (p) => {
  if (!isString(p.Zone) || p.Zone.length === 0) return 'claim Zone must be a non-empty string';
  if (!isStringArray(p.Scope) || !p.Scope.every((s) => zoneScopes.includes(s as ZoneScope))) {
    return `claim Scope must be a list of ${zoneScopes.join(', ')}`;
  }
  return undefined;
};

export const checkDataplaneClaims: ClaimsCheck = (p) => {
  if (!isString(p.Name) || p.Name.length === 0) return 'claim Name must be a non-empty string';
  if (!isString(p.Mesh) || p.Mesh.length === 0) return 'claim Mesh must be a non-empty string';
  if (!isString(p.Type)) return 'claim Type must be a string';
  if (!isString(p.Zone)) return 'claim Zone must be a string';
  const tags = p.Tags;
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags) || !Object.values(tags).every(isStringArray)) {
    return 'claim Tags must map strings to lists of strings';
  }
  return undefined;
};
