import type { StoreReads, StoreTx } from '../store/store.js';

/**
 * What a family's store remembers of serials beyond the keys it holds now: the highest serial ever
 * used (so a removed serial is never reused) and every serial removed here (so a token naming one
 * is told its key was rotated out, while any other missing kid, a token from another control
 * plane or the docs' example token, is an unknown key). Both live in the store's meta, not in a
 * process: replicas and restarts give the same answer.
 *
 * A store written before the removed serials were recorded knows only the highest serial: there
 * every serial up to it that is not held counts as removed, the closest it can tell, and the
 * first removal writes the record from that.
 */
export const highestSerialKey = (family: string) => `highestSerial/${family}`;
const removedSerialsKey = (family: string) => `removedSerials/${family}`;

export async function readRemovedSerials(read: StoreReads, family: string): Promise<number[]> {
  const recorded = await read.getMeta(removedSerialsKey(family));
  if (recorded !== undefined) return JSON.parse(recorded) as number[];
  const highest = Number((await read.getMeta(highestSerialKey(family))) ?? '0');
  const held = new Set((await read.listKeys(family)).map((k) => k.serial));
  return Array.from({ length: highest }, (_, i) => i + 1).filter((serial) => !held.has(serial));
}

/** In the transaction that removed them. */
export async function recordRemovedSerials(tx: StoreTx, family: string, serials: number[]): Promise<void> {
  if (serials.length === 0) return;
  const removed = new Set([...(await readRemovedSerials(tx, family)), ...serials]);
  await tx.setMeta(removedSerialsKey(family), JSON.stringify([...removed].sort((a, b) => a - b)));
}

/** In the transaction that stored a key: a new store starts its record of removals, empty. */
export async function recordSerialUsed(tx: StoreTx, family: string, serial: number): Promise<void> {
  const highest = Number((await tx.getMeta(highestSerialKey(family))) ?? '0');
  if (highest === 0 && (await tx.getMeta(removedSerialsKey(family))) === undefined) await tx.setMeta(removedSerialsKey(family), '[]');
  if (serial > highest) await tx.setMeta(highestSerialKey(family), String(serial));
}
