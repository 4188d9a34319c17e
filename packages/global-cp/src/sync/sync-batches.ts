import { emptyContent, type ChangeRow, type FamilyChange, type SqliteStore, type SyncContent } from '@meshauth/core';

/** Everything a zone mirrors, as of the store's current version. */
export function snapshotContent(store: SqliteStore, familyId: string): SyncContent {
  const content = emptyContent();
  for (const key of store.listKeys(familyId)) {
    content.keys.push({ serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? undefined, createdAt: key.createdAt });
  }
  for (const r of store.iterateRevocations(familyId)) content.addedRevocations.push({ jti: r.jti, expiresAt: r.expiresAt });
  return content;
}

/**
 * What changed since `version`, from the change log resolved against the current state: an
 * entity touched several times travels once, as it is now (present → put, gone → delete).
 */
export function deltaContent(store: SqliteStore, familyId: string, changes: ChangeRow[]): SyncContent {
  const content = emptyContent();
  const seen = new Set<string>();
  for (const change of changes) {
    const id = `${change.entity}:${change.ref}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (change.entity === 'key') {
      const key = store.getKey(familyId, Number(change.ref));
      if (key) content.keys.push({ serial: key.serial, publicPem: key.publicPem, privatePem: key.privatePem ?? undefined, createdAt: key.createdAt });
      else content.removedKeySerials.push(Number(change.ref));
    } else {
      const r = store.getRevocation(familyId, change.ref);
      if (r) content.addedRevocations.push({ jti: r.jti, expiresAt: r.expiresAt });
      else content.removedJtis.push(change.ref);
    }
  }
  return content;
}

/** A live change, straight from the family's write: no store reads needed. */
export function changeContent(change: FamilyChange): SyncContent {
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

/** Why a zone gets a full snapshot instead of a delta, or undefined when a delta will do. */
export function snapshotReason(store: SqliteStore, zone: ZonePosition, stateSize: () => number): string | undefined {
  if (zone.epoch === '' || zone.appliedVersion === 0) return 'new zone';
  if (zone.epoch !== store.epoch) return 'zone state is from another global store epoch';
  if (!zone.appliedModeMatches) return 'sync mode changed';
  if (zone.appliedVersion > store.version) return 'zone is ahead of global (store restored?)';
  if (zone.appliedVersion < store.changeLogFloor) return 'zone is behind the kept change log';
  // Same epoch and a version global has passed, but maybe not global's history: a store restored
  // from a backup of itself reuses version numbers for other changes, and a delta would build on
  // state global no longer has. Only the version's id tells the two apart.
  if (zone.appliedVersionId === '') return 'zone did not say which history its version is from (synced by an older meshauth)';
  if (store.versionId(zone.appliedVersion) !== zone.appliedVersionId) return 'zone state is from a different history of this store (restored from a backup?)';
  // A delta bigger than the whole state is cheaper sent as a snapshot.
  if (store.countChangesSince(zone.appliedVersion) > stateSize() + 1_000) return 'zone is far behind';
  return undefined;
}
