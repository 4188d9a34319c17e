import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, SqliteStore, systemClock, TokenFamilies } from '@meshauth/core';
import { createSyncClient, SyncedState, type SyncClient } from '@meshauth/zone-cp';
import { stopAll, tempDir } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { startGlobal, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

const ZONES = 20;

/** The sync client as a library: many zones in one process (as the benchmark runs them) against one real global. */
describe(`${ZONES} sync clients in one process`, () => {
  const dir = tempDir();
  let global: Global;
  const zones: { client: SyncClient; families: TokenFamilies; store: SqliteStore }[] = [];

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'));
    const logger = createLogger({ name: 'zones', level: 'silent' });
    for (let i = 0; i < ZONES; i++) {
      const zone = `zone-${i}`;
      const token = readFileSync(await writeZoneToken(global, dir.path, zone), 'utf8');
      const store = SqliteStore.open(':memory:');
      const families = await TokenFamilies.open({ store, clock: systemClock, logger });
      const client = createSyncClient({
        address: global.syncAddress,
        readToken: () => token,
        zone,
        mode: 'public',
        family: families.user.family,
        store,
        clock: systemClock,
        logger,
        heartbeatIntervalMs: 1_000,
        minBackoffMs: 100,
        maxBackoffMs: 1_000,
        state: await SyncedState.load(store, logger),
      });
      client.start();
      zones.push({ client, families, store });
    }
  });

  afterAll(async () => {
    for (const z of zones) {
      await z.client.stop();
      z.families.feed.stop();
      await z.store.close();
    }
    await stopAll();
    dir.remove();
  });

  it('every zone gets the keys, then each revocation, and global lists them all caught up', async () => {
    const token = await issueUserToken(global.url, global.adminToken, 'alice', []);
    await waitFor('every zone verifies the token', () => zones.every((z) => z.families.user.verifier.verify(token).Name === 'alice'));
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { body: { token } })).status).toBe(201);
    await waitFor('every zone refuses it', () =>
      zones.every((z) => {
        try {
          z.families.user.verifier.verify(token);
          return false;
        } catch (error) {
          return /revoked/.test((error as Error).message);
        }
      }),
    );
    const listed = await waitFor('all acked', async () => {
      const items = (await http('GET', `${global.url}/zones`)).json.items as { connected: boolean; versionsBehind: number }[];
      return items.length === ZONES && items.every((z) => z.connected && z.versionsBehind === 0) && items;
    });
    expect(listed).toHaveLength(ZONES);
    // Zones that connect at one version share one encoding of the state.
    const logged = (msg: string) => global.daemon.output.filter((line) => line.includes(`"msg":"${msg}"`)).length;
    // Global's log reaches this process through a pipe, maybe after the zones got their data.
    await waitFor('a snapshot logged for every zone', () => logged('sync: sending snapshot') >= ZONES, 10_000);
    expect(logged('sync: sending snapshot')).toBe(ZONES);
    expect(logged('sync: encoded snapshot')).toBe(1);
    expect(zones.map((z) => z.client.status().state)).toEqual(Array(ZONES).fill('connected'));
  });

  it("listens on the sync port with an accept queue for a reconnect storm, not Node's default 511", () => {
    // `ss` shows a listening socket's accept-queue limit as its Send-Q: what was asked, capped by net.core.somaxconn.
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const [line] = execFileSync('ss', ['-ltnH', `sport = :${global.syncPort}`], { encoding: 'utf8' }).trim().split('\n');
    const backlog = Number(line!.trim().split(/\s+/)[2]);
    expect(backlog).toBe(Math.min(somaxconn, 16_384));
  });
});

