import type { MeshAuthConfig } from '../config/defaults.js';
import { PostgresStore } from './postgres-store.js';
import { SQLITE_PROFILES, SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** The one place that picks a store implementation: from `store.type`. */
export async function openStore(config: MeshAuthConfig, plane: 'global' | 'zone'): Promise<Store> {
  if (config.store.type === 'postgres') return PostgresStore.open(config.store.postgres);
  // A zone's writes are the stream of small deltas global sends it; global's include bulk imports.
  return SqliteStore.open(config.store.sqlite.path || `./data/${plane}.db`, { profile: plane === 'zone' ? SQLITE_PROFILES.deltas : SQLITE_PROFILES.bulk });
}
