import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from './daemon.mjs';
import { call, expectOk } from './http.mjs';

export const now = () => performance.timeOrigin + performance.now();

export function jtiOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).jti;
}

/** Zone tokens (scope cp) for `names`, issued on global a few at a time. */
export async function issueZoneTokens(globalUrl, adminToken, names, concurrency = 8) {
  const tokens = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      tokens[i] = (await expectOk('POST', `${globalUrl}/tokens/zone`, { token: adminToken, body: { zone: names[i], scope: ['cp'], validFor: '24h' } })).text;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return names.map((zone, i) => ({ zone, token: tokens[i] }));
}

/**
 * A real zone-cp process syncing from global in `public` mode through `address` (grpc://host:port).
 * `dir`: restart a stopped zone on the store it left behind.
 */
export async function startSyncedZone({ address, zone, token, env = {}, dir }) {
  const daemonEnv = {
    MESHAUTH_MULTIZONE_ZONE_NAME: zone,
    MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: address,
    MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
    ...env,
  };
  // The token file lives in the zone's own temp dir, removed with it.
  const beforeStart = (zoneDir) => {
    const file = join(zoneDir, 'zone-token');
    writeFileSync(file, token, { mode: 0o600 });
    return { MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: file };
  };
  return startDaemon('zone-cp', daemonEnv, { beforeStart, ...(dir ? { dir } : {}) });
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The zone answers /who-am-i for this token with the given status. */
export async function whoAmIStatus(zoneUrl, token) {
  return (await call('GET', `${zoneUrl}/who-am-i`, { token })).status;
}
