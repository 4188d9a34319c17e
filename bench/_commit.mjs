import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { SqliteStore } from '@meshauth/core';
const dir = mkdtempSync('/tmp/commit-');
const store = SqliteStore.open(`${dir}/z.db`);
const jtis = Array.from({ length: 1_000_000 }, () => randomUUID()).sort();
await store.transaction(async (tx) => { await tx.clearStagedRevocations(); });
await store.transaction(async (tx) => { for (let i = 0; i < jtis.length; i += 5000) await tx.stageRevocations(jtis.slice(i, i + 5000).map(jti => ({ jti, op: 'put', expiresAt: null }))); });
const db = store.db;
const orig = db.exec.bind(db);
db.exec = (sql) => { const t = performance.now(); const r = orig(sql); console.log(sql, (performance.now() - t).toFixed(1), 'ms'); return r; };
await store.transaction(async (tx) => {
  let t = performance.now(); await tx.deleteAllRevocations('user-token'); console.log('deleteAll', (performance.now() - t).toFixed(1));
  t = performance.now(); await tx.mergeStagedRevocations('user-token', Date.now()); console.log('merge', (performance.now() - t).toFixed(1));
  t = performance.now(); await tx.clearStagedRevocations(); console.log('clear', (performance.now() - t).toFixed(1));
});
console.log(db.pragma('cache_size'), db.pragma('cache_spill'));
