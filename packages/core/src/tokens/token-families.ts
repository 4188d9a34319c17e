import { badRequest } from '../errors.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../observability/logger.js';
import { ChangeFeed } from '../replication/change-feed.js';
import type { Store } from '../store/store.js';
import { checkDataplaneClaims, checkUserClaims, checkZoneClaims, type DataplaneClaims, type UserClaims, type ZoneClaims } from './claims.js';
import { dataplaneTokenFamily, userTokenFamily, zoneTokenFamily } from './family-names.js';
import type { SigningKey } from './signing-key.js';
import { TokenFamily, type FamilyStorage } from './token-family.js';
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
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Zone: refuse tokens of synced keys while cut off from global too long. */
  refuseUserKey?: (key: SigningKey) => string | undefined;
}

const DATAPLANE_PREFIX = 'dataplane-token/';

/**
 * Every token family a plane knows (user, zone, and one dataplane family per mesh), in memory,
 * following the store's change log through `feed`.
 */
export class TokenFamilies {
  readonly user: TokenKind<UserClaims>;
  readonly zone: TokenKind<ZoneClaims>;
  private readonly dataplanes = new Map<string, TokenKind<DataplaneClaims>>();
  private readonly storage: FamilyStorage;
  /** Set by `open`: the reader of the change log that keeps these families current. */
  feed!: ChangeFeed;

  private constructor(private readonly options: TokenFamiliesOptions) {
    const { store, clock } = options;
    this.storage = { store, clock, untilApplied: (version) => this.feed.untilApplied(version) };
    this.user = this.kind(new TokenFamily(userTokenFamily, this.storage), checkUserClaims, options.refuseUserKey);
    this.zone = this.kind(new TokenFamily(zoneTokenFamily, this.storage), checkZoneClaims);
  }

  /** Loads every family from the store and starts following its change log. */
  static async open(options: TokenFamiliesOptions): Promise<TokenFamilies> {
    const families = new TokenFamilies(options);
    const { read } = options.store;
    // The version first: a change committed while the tables are read is in them and replayed
    // from the log too, which is harmless (every change row is idempotent).
    const loadedAt = await read.version();
    for (const id of await read.keyFamilies(DATAPLANE_PREFIX)) families.dataplane(id.slice(DATAPLANE_PREFIX.length));
    for (const family of families.all()) await family.load(read);
    families.feed = new ChangeFeed({
      store: options.store,
      logger: options.logger,
      loadedAt,
      family: (id) => families.byId(id),
      families: () => families.all(),
    });
    return families;
  }

  /** Every family held in memory. */
  all(): TokenFamily[] {
    return [this.user.family, this.zone.family, ...[...this.dataplanes.values()].map((k) => k.family)];
  }

  private byId(id: string): TokenFamily {
    if (id === this.user.family.name.id) return this.user.family;
    if (id === this.zone.family.name.id) return this.zone.family;
    if (id.startsWith(DATAPLANE_PREFIX)) return this.dataplane(id.slice(DATAPLANE_PREFIX.length)).family;
    throw new Error(`change log names an unknown token family ${JSON.stringify(id)}`);
  }

  /** The mesh's family, created empty in memory when new (its keys arrive through the log). */
  dataplane(mesh: string): TokenKind<DataplaneClaims> {
    let kind = this.dataplanes.get(mesh);
    if (!kind) {
      kind = this.kind(new TokenFamily(dataplaneTokenFamily(mesh), this.storage), checkDataplaneClaims);
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
