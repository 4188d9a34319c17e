import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../../support/daemon.js';

/** The little of better-sqlite3 the tests use (its types are core's, not resolvable from here). */
interface ReadOnlyDb {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown; pluck(): { get(...params: unknown[]): unknown } };
  pragma(sql: string, options?: { simple: boolean }): unknown;
  exec(sql: string): unknown;
  backup(destination: string): Promise<unknown>;
  close(): void;
}

// better-sqlite3 is core's dependency, not the root's: resolve it from core.
const require = createRequire(join(repoRoot, 'packages/core/package.json'));
const BetterSqlite3 = require('better-sqlite3') as new (path: string, options: { readonly: boolean; fileMustExist: boolean }) => ReadOnlyDb;

/** Opens a store file read-only, alongside the daemon that may be writing it (WAL allows that). */
export function openStoreReadOnly(path: string): ReadOnlyDb {
  return new BetterSqlite3(path, { readonly: true, fileMustExist: true });
}

/**
 * Checkpoints a (running) plane's store and truncates its WAL file to nothing, waiting up to 5 s
 * for the plane's own checkpointer. SQLite otherwise keeps the WAL file at its largest and writes
 * new frames over old ones: space the file already holds, which a full disk does not refuse.
 * Returns SQLite's answer: `busy` 0 when it could, `log` the frames left (0).
 */
export function truncateWal(path: string): { busy: number; log: number; checkpointed: number } {
  const db = new BetterSqlite3(path, { readonly: false, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[])[0]!;
  } finally {
    db.close();
  }
}

/** A consistent copy of a (running) plane's store file, taken with SQLite's online backup API, as an operator's backup job would. */
export async function backupStore(path: string, destination: string): Promise<void> {
  const db = openStoreReadOnly(path);
  try {
    await db.backup(destination);
  } finally {
    db.close();
  }
}

/** Every row that matters, read straight from a (running) plane's store file, read-only. */
export interface StoreContents {
  secrets: { mesh: string; name: string; data: string }[];
  signingKeys: { family: string; serial: number; publicPem: string; hasPrivate: boolean; origin: string }[];
  revocations: { family: string; jti: string }[];
  version: string | null;
  epoch: string | null;
}

export function readStore(path: string): StoreContents {
  const db = openStoreReadOnly(path);
  try {
    const meta = (key: string) => (db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? null;
    return {
      secrets: (db.prepare('SELECT mesh, name, data FROM secrets ORDER BY mesh, name').all() as { mesh: string; name: string; data: Buffer }[]).map((r) => ({
        mesh: r.mesh,
        name: r.name,
        data: Buffer.from(r.data).toString('base64'),
      })),
      signingKeys: (
        db.prepare('SELECT family, serial, public_pem, private_pem, origin FROM signing_keys ORDER BY family, serial').all() as Record<string, unknown>[]
      ).map((r) => ({ family: r.family as string, serial: r.serial as number, publicPem: r.public_pem as string, hasPrivate: r.private_pem !== null, origin: r.origin as string })),
      revocations: db.prepare('SELECT family, jti FROM revocations ORDER BY family, jti').all() as { family: string; jti: string }[],
      version: meta('version'),
      epoch: meta('epoch'),
    };
  } finally {
    db.close();
  }
}

/** The user-token keys a store holds (serial and public key), sorted: what a synced zone must hold of global's. */
export const userKeys = (s: StoreContents): string[] => s.signingKeys.filter((k) => k.family === 'user-token').map((k) => `${k.serial}:${k.publicPem}`).sort();

/** The user-token revocations a store holds, sorted. */
export const userRevocations = (s: StoreContents): string[] => s.revocations.filter((r) => r.family === 'user-token').map((r) => r.jti).sort();
