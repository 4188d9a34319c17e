// What the HA story's steps share: the names they look for in logs and the HTTP checks they repeat.
import { expectStatus, request, whoAmI } from '../demo/http-client.mjs';
import { waitUntil } from '../demo/wait-until.mjs';

export const ZONE = 'zone-1';
/** Global's leader, for the periodic work. */
export const GLOBAL_ROLE = 'the periodic work (pruning)';
/** The zone's leader: it also holds the one sync stream to global. */
export const ZONE_ROLE = 'the sync stream to global and the periodic work (pruning)';
export const leadsLine = (role) => `leader: this replica now runs ${role}`;
export const LOST_STREAM = 'sync: this replica lost the zone leader lease; it stops streaming to global (the leader streams)';

/** `GET /sync/status` on a zone replica (localhost is admin there). */
export async function syncStatus(demo, label) {
  return expectStatus(await request('GET', `${demo.topology.url(label)}/sync/status`), 200, `${label} GET /sync/status`).json;
}

/** The zone replica leading now: the one whose `GET /sync/status` says `leader: true`. */
export async function zoneLeaderStatus(demo) {
  return syncStatus(demo, demo.zoneLeader.label);
}

/** `label (instance …)` for a replica, from its own `GET /`. */
export const whoIs = (demo, replica) => `${replica.label} (instance ${demo.instances.get(replica.label)})`;

export const showStats = (stats) => `{snapshots: ${stats.snapshots}, deltas: ${stats.deltas}, nacks: ${stats.nacks}}`;

/** Whether this replica's log says it holds the leader lease now (its last leadership line for `role`). */
export function leads(replica, role = GLOBAL_ROLE) {
  const lines = replica.logLines().filter((l) => l.msg === leadsLine(role) || l.msg === `leader: this replica no longer runs ${role}`);
  return lines.at(-1)?.msg === leadsLine(role);
}

/** Waits until `plane` refuses `token` as revoked; resolves with the milliseconds since `since`. */
export async function refusedAsRevoked(demo, plane, token, since) {
  let last = '';
  const refusal = await waitUntil(
    async () => {
      const me = await whoAmI(demo.topology.url(plane), token);
      last = `${me.status} ${me.detail}`;
      return me.status === 401 && me;
    },
    { timeoutMs: 30_000, intervalMs: 5, what: `${plane} to refuse the revoked token`, last: () => last },
  );
  if (!/revoked/i.test(refusal.detail)) throw new Error(`${plane} refused the token, but not as revoked: ${refusal.detail}`);
  return { ms: performance.now() - since, detail: refusal.detail };
}

export async function expectAccepted(demo, plane, token, name) {
  let last = '';
  const me = await waitUntil(
    async () => {
      const answer = await whoAmI(demo.topology.url(plane), token);
      last = `${answer.status} ${JSON.stringify(answer.detail)}`;
      return answer.status === 200 && answer;
    },
    { timeoutMs: 10_000, intervalMs: 20, what: `${plane} to accept ${name}'s token`, last: () => last },
  );
  if (me.name !== name) throw new Error(`${plane} took the token for ${me.name}, not ${name}`);
  return me;
}

export async function issueUserToken(demo, replica, name, groups) {
  const body = { name, groups, validFor: '24h' };
  return expectStatus(await request('POST', `${demo.topology.url(replica.label)}/tokens/user`, { token: demo.adminToken, body }), 200, `user token on ${replica.label}`).text.trim();
}

/** The revoked jtis global holds (the docs' `user-token-revocations` secret). */
export async function revokedJtis(demo, replica) {
  const result = await request('GET', `${demo.topology.url(replica.label)}/global-secrets/user-token-revocations`);
  if (result.status === 404) return [];
  expectStatus(result, 200, `${replica.label} user-token-revocations`);
  return Buffer.from(result.json.data, 'base64').toString('utf8').split(',').filter(Boolean);
}

