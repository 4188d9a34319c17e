import type { Clock } from '../clock.js';
import { AppendBatcher } from '../store/append-batcher.js';
import type { IssuedTokenRow, Store, StoreTx } from '../store/store.js';
import type { TokenKind } from './token-families.js';
import type { TokenFamily } from './token-family.js';

/** Whom a token names: the subject columns of its record. */
export type IssuedSubject =
  | { kind: 'user'; name: string; groups: string[] }
  | { kind: 'zone'; zone: string }
  | { kind: 'dataplane'; mesh: string; name: string };

/** A subject whose user tokens to find: a user's name, or a group (or both: tokens naming both). */
export interface UserSubject {
  name?: string;
  group?: string;
}

/** A record as listed: with whether the token is revoked or expired now. */
export interface IssuedTokenView extends IssuedTokenRow {
  revoked: boolean;
  expired: boolean;
}

/** Store meta: when this store began recording (ms), or 0 when it recorded from its first key. */
const RECORDING_SINCE = 'issuedTokens/recordingSince';
/** At most this many records listed at once (the newest). Revoking by subject has no such limit. */
export const MAX_RECORDS = 10_000;
/** "No limit" for a statement's LIMIT: every unexpired record of a subject is revoked. */
const ALL_RECORDS = 2 ** 31 - 1;
/** Records per pruning transaction. */
const PRUNE_BATCH = 10_000;

export interface IssuedTokenRecordsOptions {
  store: Store;
  clock: Clock;
  /** This replica: each record names the one that signed it. */
  instance: string;
  /** The longest a token may be valid (`apiServer.authn.tokens.maxValidFor`), in ms. */
  maxValidForMs: number;
}

/**
 * Every token a plane issues is recorded (jti, subject, times, issuer — never the token) in the
 * same transaction as its audit entry, before the token is handed out: a token that is answered
 * can be found by its subject on every replica, and revoked with all of its kin.
 */
export class IssuedTokenRecords {
  private recordingSince = 0;
  /**
   * Tokens issued at the same moment are recorded in one transaction: one sync to disk for all of
   * them, where a transaction each made the sync the cost of issuing. Each is still handed out only
   * once its own record (and audit entry) is committed, and fails if that commit fails.
   */
  private readonly records = new AppendBatcher<(tx: StoreTx) => Promise<void>>((writes) =>
    this.options.store.transaction(async (tx) => {
      for (const write of writes) await write(tx);
    }),
  );

  private constructor(private readonly options: IssuedTokenRecordsOptions) {}

  /**
   * Notes when recording began, once per store. A store that held no signing key then cannot have
   * issued a token before: everything it ever issued is recorded (0).
   */
  static async open(options: IssuedTokenRecordsOptions): Promise<IssuedTokenRecords> {
    const records = new IssuedTokenRecords(options);
    const { store, clock } = options;
    records.recordingSince = await store.transaction(async (tx) => {
      const held = await tx.getMeta(RECORDING_SINCE);
      if (held !== undefined) return Number(held);
      const issuedBefore = (await tx.keyFamilies('')).length > 0;
      const since = issuedBefore ? clock.now() : 0;
      await tx.setMeta(RECORDING_SINCE, String(since));
      return since;
    });
    return records;
  }

  /**
   * When tokens issued before recording began may still be valid, the time recording began: they
   * are not in the records, so finding a subject's tokens cannot find them.
   */
  unrecordedBefore(): number | undefined {
    if (this.recordingSince === 0) return undefined;
    return this.options.clock.now() < this.recordingSince + this.options.maxValidForMs ? this.recordingSince : undefined;
  }

  /** Signs a token of `kind`, records it and runs `also` (its audit entry) in one transaction; then hands it out. */
  async issue<C>(
    kind: TokenKind<C>,
    claims: Record<string, unknown>,
    validForMs: number,
    subject: IssuedSubject,
    issuedBy: string,
    also?: (tx: StoreTx) => Promise<void>,
  ): Promise<string> {
    const signed = await kind.issuer.sign(claims, validForMs);
    const row: IssuedTokenRow = {
      family: kind.family.name.id,
      jti: signed.jti,
      kind: subject.kind,
      name: subject.kind === 'zone' ? '' : subject.name,
      groups: subject.kind === 'user' ? subject.groups : [],
      zone: subject.kind === 'zone' ? subject.zone : '',
      mesh: subject.kind === 'dataplane' ? subject.mesh : '',
      issuedAt: signed.issuedAt,
      expiresAt: signed.expiresAt,
      issuedBy,
      instance: this.options.instance,
    };
    await this.records.add(async (tx) => {
      await tx.recordIssuedToken(row);
      await also?.(tx);
    });
    return signed.token;
  }

  /** The family's records of `subject`, newest first, with revoked/expired as memory shows them now. */
  async list(family: TokenFamily, subject: UserSubject): Promise<IssuedTokenView[]> {
    const rows = await this.options.store.read.listIssuedTokens({ family: family.name.id, ...subject, limit: MAX_RECORDS });
    const now = this.options.clock.now();
    return rows.map((row) => ({ ...row, revoked: family.revocations.has(row.jti), expired: row.expiresAt <= now }));
  }

  /**
   * Revokes every unexpired token recorded for `subject`, in one transaction with `also` (its
   * audit entry, told how many). Returns the jtis newly revoked.
   */
  async revokeAll(family: TokenFamily, subject: UserSubject, also?: (tx: StoreTx, added: string[]) => Promise<void>): Promise<string[]> {
    return family.revokeMany(async (tx) => {
      const rows = await tx.listIssuedTokens({ family: family.name.id, ...subject, unexpiredAt: this.options.clock.now(), limit: ALL_RECORDS });
      return rows.map((r) => ({ jti: r.jti, expiresAt: r.expiresAt }));
    }, also);
  }

  /** Drops records of tokens past their exp (leader work); returns how many went. */
  async pruneExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const dropped = await this.options.store.transaction((tx) => tx.pruneIssuedTokens(this.options.clock.now(), PRUNE_BATCH));
      total += dropped;
      if (dropped < PRUNE_BATCH) return total;
    }
  }
}
