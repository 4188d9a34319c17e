import { badRequest } from '../errors.js';
import type { Clock } from '../clock.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { checkDataplaneClaims, checkUserClaims, checkZoneClaims, type DataplaneClaims, type UserClaims, type ZoneClaims } from './claims.js';
import { dataplaneTokenFamily, userTokenFamily, zoneTokenFamily } from './family-names.js';
import type { SigningKey } from './signing-key.js';
import { TokenFamily } from './token-family.js';
import { TokenIssuer } from './token-issuer.js';
import { TokenVerifier } from './token-verifier.js';

export interface TokenKind<C> {
  family: TokenFamily;
  issuer: TokenIssuer;
  verifier: TokenVerifier<C>;
}

/** A secret name that is really a view onto a family's key or revocation list. */
export type SecretView = { family: TokenFamily; kind: 'key'; serial: number } | { family: TokenFamily; kind: 'revocations' };

export interface TokenFamiliesOptions {
  store: SqliteStore;
  clock: Clock;
  /** Record user-token changes in the change log: only global serves it (default true). */
  logUserChanges?: boolean;
  /** Zone: refuse tokens of synced keys while cut off from global too long. */
  refuseUserKey?: (key: SigningKey) => string | undefined;
}

/** Every token family a plane knows: user, zone, and one dataplane family per mesh. */
export class TokenFamilies {
  readonly user: TokenKind<UserClaims>;
  readonly zone: TokenKind<ZoneClaims>;
  private readonly dataplanes = new Map<string, TokenKind<DataplaneClaims>>();

  constructor(private readonly options: TokenFamiliesOptions) {
    const { store, clock } = options;
    // User-token keys and revocations are what zones mirror, so their changes are logged.
    const user = new TokenFamily(userTokenFamily, store, clock, options.logUserChanges ?? true);
    this.user = this.kind(user, checkUserClaims, options.refuseUserKey);
    this.zone = this.kind(new TokenFamily(zoneTokenFamily, store, clock), checkZoneClaims);
    for (const id of store.keyFamilies('dataplane-token/')) this.dataplane(id.slice('dataplane-token/'.length));
  }

  dataplane(mesh: string): TokenKind<DataplaneClaims> {
    let kind = this.dataplanes.get(mesh);
    if (!kind) {
      kind = this.kind(new TokenFamily(dataplaneTokenFamily(mesh), this.options.store, this.options.clock), checkDataplaneClaims);
      this.dataplanes.set(mesh, kind);
    }
    return kind;
  }

  /** The mesh's family if this plane has one, without creating it (for callers strangers can reach). */
  findDataplane(mesh: string): TokenKind<DataplaneClaims> | undefined {
    return this.dataplanes.get(mesh);
  }

  /** The families whose secrets live in `mesh` ('' = global secrets). */
  familiesIn(mesh: string): TokenFamily[] {
    if (mesh === '') return [this.user.family, this.zone.family];
    return [this.dataplane(mesh).family];
  }

  /** Resolves a secret name to the key or revocation list it stands for, if it is one. */
  secretView(mesh: string, name: string): SecretView | undefined {
    for (const family of this.familiesIn(mesh)) {
      if (name === family.name.revocationsSecret) return { family, kind: 'revocations' };
      if (name.startsWith(family.name.keySecretPrefix)) {
        const serialText = name.slice(family.name.keySecretPrefix.length);
        if (!/^[1-9][0-9]{0,8}$/.test(serialText)) {
          throw badRequest('name', `${family.name.keySecretPrefix}{serial} needs a positive integer serial, got ${JSON.stringify(serialText)}`);
        }
        return { family, kind: 'key', serial: Number(serialText) };
      }
    }
    return undefined;
  }

  private kind<C>(family: TokenFamily, checkClaims: (p: Record<string, unknown>) => string | undefined, refuseKey?: (key: SigningKey) => string | undefined): TokenKind<C> {
    const { clock } = this.options;
    return {
      family,
      issuer: new TokenIssuer(family.keys, clock, family.name.label),
      verifier: new TokenVerifier<C>({
        keys: family.keys,
        revocations: family.revocations,
        clock,
        label: family.name.label,
        checkClaims,
        ...(refuseKey ? { refuseKey } : {}),
      }),
    };
  }
}
