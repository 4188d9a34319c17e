import { BatchEncoder, emptyContent, yieldToLoop, type Batch, type BatchHeader, type ChangeRow, type FamilyChange, type Store, type SyncContent, type SyncMode } from '@meshauth/core';

/** Change rows read per query when building a delta. */
const PAGE_ROWS = 50_000;

/**
 * Everything a zone mirrors, as the store holds it now, encoded page by page as it is read: the
 * event loop runs between pages (a million revocations never hold requests up), and no array of
 * a million revocations is built on the way. `sealed` gets each page's finished chunks at once,
 * so they can be written while the rest is read; the returned chunks are the rest, the last one marked.
 */
export async function encodeSnapshot(store: Store, familyId: string, header: BatchHeader, mode: SyncMode, sealed: (chunks: Batch[]) => void): Promise<Batch[]> {
  const encoder = new BatchEncoder(header, mode);
  for (const key of await store.read.listKeys(familyId)) {
    encoder.addKey({ serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? undefined, createdAt: key.createdAt });
  }
  await store.read.forEachRevocationPage(familyId, async (rows) => {
    for (const r of rows) encoder.addRevocation({ jti: r.jti, expiresAt: r.expiresAt });
    sealed(encoder.drain());
    await yieldToLoop();
  });
  return encoder.finish();
}

/** The family's change rows after `version`, in log order. */
export async function changesSince(store: Store, familyId: string, version: number): Promise<ChangeRow[]> {
  const out: ChangeRow[] = [];
  let cursor = { version, seq: Number.MAX_SAFE_INTEGER };
  for (;;) {
    const rows = await store.read.changesAfter(cursor.version, cursor.seq, PAGE_ROWS);
    for (const row of rows) if (row.family === familyId) out.push(row);
    if (rows.length < PAGE_ROWS) return out;
    const last = rows[rows.length - 1]!;
    cursor = { version: last.version, seq: last.seq };
  }
}

/**
 * What changed since a version, from the change log resolved against the current state: an
 * entity touched several times travels once, as it is now (present → put, gone → delete).
 */
export async function deltaContent(store: Store, familyId: string, changes: ChangeRow[]): Promise<SyncContent> {
  const content = emptyContent();
  const seen = new Set<string>();
  for (const change of changes) {
    const id = `${change.entity}:${change.ref}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (change.entity === 'key') {
      const key = await store.read.getKey(familyId, Number(change.ref));
      if (key) content.keys.push({ serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? undefined, createdAt: key.createdAt });
      else content.removedKeySerials.push(Number(change.ref));
    } else if (change.entity === 'revocation') {
      const r = await store.read.getRevocation(familyId, change.ref);
      if (r) content.addedRevocations.push({ jti: r.jti, expiresAt: r.expiresAt });
      else content.removedJtis.push(change.ref);
    }
  }
  return content;
}

/**
 * A bulk write (a replace of the whole revocation list) is logged as one `family`/`reload` row, not
 * a row per revocation: a zone that missed one is sent a snapshot, since the log does not say
 * what the bulk write changed.
 */
export const reloadsFamily = (changes: ChangeRow[]): boolean => changes.some((c) => c.entity === 'family');

/** A live change, as the change feed applied it: no store reads needed. */
export function changeContent(change: FamilyChange | undefined): SyncContent {
  if (!change) return emptyContent();
  return {
    keys: change.keysPut.map((k) => ({ serial: k.serial, publicPem: k.publicPem, privatePem: k.privatePem, createdAt: k.createdAt })),
    removedKeySerials: change.keysDeleted,
    addedRevocations: change.revocationsAdded,
    removedJtis: change.revocationsDeleted,
  };
}

export interface ZonePosition {
  epoch: string;
  appliedVersion: number;
  /** The id global gave appliedVersion, as the zone received it ('' if it received none). */
  appliedVersionId: string;
  appliedModeMatches: boolean;
}

/** Why a zone gets a full snapshot instead of a delta up to `version`, or undefined when a delta will do. */
export async function snapshotReason(store: Store, version: number, zone: ZonePosition, stateSize: () => number): Promise<string | undefined> {
  if (zone.epoch === '' || zone.appliedVersion === 0) return 'new zone';
  if (zone.epoch !== store.epoch) return 'zone state is from another global store epoch';
  if (!zone.appliedModeMatches) return 'sync mode changed';
  if (zone.appliedVersion > version) return 'zone is ahead of global (store restored?)';
  if (zone.appliedVersion < (await store.read.changeLogFloor())) return 'zone is behind the kept change log';
  // Same epoch and a version global has passed, but maybe not global's history: a store restored
  // from a backup of itself reuses version numbers for other changes, and a delta would build on
  // state global no longer has. Only the version's id tells the two apart.
  if (zone.appliedVersionId === '') return 'zone did not say which history its version is from (synced by an older meshauth)';
  if ((await store.read.versionInfo(zone.appliedVersion))?.id !== zone.appliedVersionId) return 'zone state is from a different history of this store (restored from a backup?)';
  // A delta bigger than the whole state is cheaper sent as a snapshot.
  if ((await store.read.countChangesSince(zone.appliedVersion)) > stateSize() + 1_000) return 'zone is far behind';
  return undefined;
}
