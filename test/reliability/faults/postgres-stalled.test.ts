import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../../scripts/lib/embedded-postgres.mjs';
import { stopAll } from '../../support/daemon.js';
import { http, issueUserToken } from '../../support/http.js';
import { startGlobal, type Global } from '../../support/sync-cluster.js';
import { waitFor } from '../../support/wait-for.js';
import { recordLost } from '../support/ledger.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The database stops answering without closing anything (a black hole: a network partition, a
 * frozen server), which a refused connection does not show. Verification goes on from memory;
 * a write answers 503 naming the database instead of hanging; when the path comes back the pool
 * and the LISTEN connection recover by themselves and nothing acknowledged is lost.
 */
describe('a global replica whose PostgreSQL stops answering', () => {
  let pg: EmbeddedPostgresServer;
  let proxy: TcpProxy;
  let global: Global;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres();
    proxy = await startTcpProxy(pg.settings.port);
    global = await startGlobal('', { ...pg.env, MESHAUTH_STORE_POSTGRES_PORT: String(proxy.port) });
  });

  afterAll(async () => {
    await stopAll();
    await proxy?.close();
    await pg?.stop();
  });

  const revoke = (jti: string, timeoutMs: number) =>
    fetch(`${global.url}/tokens/user/revocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jti }),
      // "No hanging request": a write that has not answered in 15 s fails the test.
      signal: AbortSignal.timeout(timeoutMs),
    });

  it('keeps verifying, answers writes 503 within 15 s naming the database, and recovers without a restart', async () => {
    const acknowledged = ['before-1', 'before-2'];
    for (const jti of acknowledged) expect((await revoke(jti, 15_000)).status).toBe(201);
    const token = await issueUserToken(global.url, global.adminToken, 'stalled', []);

    proxy.stall();
    expect((await http('GET', `${global.url}/who-am-i`, { token })).status).toBe(200);
    const during = await revoke('during-stall', 15_000);
    expect(during.status).toBe(503);
    const problem = (await during.json()) as { detail: string; title: string };
    expect(problem.detail).toMatch(/PostgreSQL store postgres:\/\/postgres@127\.0\.0\.1:\d+\/meshauth/);
    expect(JSON.stringify(problem)).not.toContain(pg.settings.password);
    expect((await http('GET', `${global.url}/who-am-i`, { token })).status).toBe(200);

    proxy.restore();
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    await waitFor('writes to work again', async () => (await revoke(jti, 15_000)).status === 201, 60_000, 250);
    expect((await http('GET', `${global.url}/who-am-i`, { token })).status).toBe(401);

    const listed = Buffer.from((await http('GET', `${global.url}/global-secrets/user-token-revocations`)).json.data as string, 'base64').toString().split(',');
    const lost = acknowledged.filter((j) => !listed.includes(j));
    recordLost(lost.length, 'revocations acknowledged before the database stalled');
    expect(lost).toEqual([]);
  });
});
