import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../../../scripts/lib/embedded-postgres.mjs';
import { PostgresStore } from './postgres-store.js';

/** What only the PostgreSQL store does: its connections' failures. The rest: store-contract.test.ts. */
let postgres: EmbeddedPostgresServer;

beforeAll(async () => {
  postgres = await startEmbeddedPostgres();
}, 120_000);

afterAll(async () => {
  await postgres?.stop();
});

describe('PostgresStore connections', () => {
  it('fails a transaction whose connection the server ends between two statements with a 503, and the process goes on', async () => {
    const settings = await postgres.createDatabase('ended_between_statements');
    const store = await PostgresStore.open(settings);
    try {
      const ended = store.transaction(async (tx) => {
        await tx.setMeta('before', '1');
        // While this transaction waits here, the server ends its connection ("terminating
        // connection due to administrator command", as when PostgreSQL is stopped): the client
        // hears of it between two statements, with none running.
        const terminated = await postgres.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction'", [settings.dbName]);
        expect(terminated).toEqual([{ ok: true }]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await tx.setMeta('after', '1');
      });
      await expect(ended).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
      // Nothing of it was kept, and the store goes on with a fresh connection.
      expect(await store.read.getMeta('before')).toBeUndefined();
      await store.transaction((tx) => tx.setMeta('next', '1'));
      expect(await store.read.getMeta('next')).toBe('1');
    } finally {
      await store.close();
    }
  });
});
