import type { MeshAuthConfig } from '../config/defaults.js';
import { PostgresStore } from './postgres-store.js';
import { SQLITE_PAGE_BYTES, SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** The one place that picks a store implementation: from `store.type`. */
export async function openStore(config: MeshAuthConfig, plane: 'global' | 'zone'): Promise<Store> {
  if (config.store.type === 'postgres') return PostgresStore.open(config.store.postgres);
  // A zone's writes are the stream of small deltas global sends it; global's include bulk imports.
  return SqliteStore.open(config.store.sqlite.path || `./data/${plane}.db`, { pageBytes: plane === 'zone' ? SQLITE_PAGE_BYTES.deltas : SQLITE_PAGE_BYTES.bulk });
}
