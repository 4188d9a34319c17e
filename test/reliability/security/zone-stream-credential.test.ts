import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { generateRsaPrivateKeyPem, type GlobalMessage__Output } from '@meshauth/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../../support/daemon.js';
import { hello, openProbe, type ProbeStream } from '../../support/sync-cluster.js';
import { waitFor } from '../../support/wait-for.js';
import { writeZoneToken } from '../support/multizone.js';
import { startPlane, zoneCpBuilt, type Plane } from '../support/plane-fixture.js';
import { jsonRequest, rawRequest } from '../support/raw-http.js';

/** A bounded wait for the stream to end; "still open" after it fails the test, it asserts no speed. */
const END_WAIT_MS = 15_000;
/** The zone's announced heartbeat interval: global's silence timer would wait 15 minutes. */
const SLOW_HEARTBEAT_MS = 300_000;
const ENDED_LOG = 'sync: zone token no longer valid; stream ended';

const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
const keySerials = (messages: GlobalMessage__Output[]) => messages.flatMap((m) => m.batch?.keys ?? []).map((k) => k.serial);

/**
 * A zone's credential is checked for the whole life of its sync stream, whatever the zone sends:
 * hand-driven zones that only ack, stay silent, or never say Hello lose their stream (UNAUTHENTICATED,
 * the verifier's reason) once their token is revoked, expires or loses its signing key, and in
 * private mode never receive the private key of a user-token key created after that.
 */
describe.skipIf(!zoneCpBuilt())('a zone sync stream lives only as long as its zone token', () => {
  let global: Plane;
  const probes: ProbeStream[] = [];
  const timers: NodeJS.Timeout[] = [];
  /** PUT replaces the list: every test's revocations are kept in it. */
  const revoked: string[] = [];

  beforeAll(async () => {
    global = await startPlane('global-cp', { MESHAUTH_MULTIZONE_GLOBAL_SYNC_USER_TOKEN_KEYS: 'private' });
  });

  afterEach(() => {
    for (const timer of timers.splice(0)) clearInterval(timer);
    for (const probe of probes.splice(0)) probe.close();
  });

  afterAll(async () => {
    await stopAll();
    global?.dir.remove();
  });

  const syncPort = () => global.daemon.ready.syncPort as number;
  const zoneToken = async (zone: string) => readFileSync(await writeZoneToken(global, zone), 'utf8');

  function open(token: string): ProbeStream {
    const probe = openProbe(syncPort(), token);
    probes.push(probe);
    return probe;
  }

  /** Hello in private mode announcing 5-minute heartbeats, then the whole snapshot. */
  async function connected(zone: string, token: string): Promise<{ probe: ProbeStream; version: number }> {
    const probe = open(token);
    probe.send({ hello: { ...hello(zone, 'SYNC_MODE_PRIVATE').hello, heartbeatIntervalMs: SLOW_HEARTBEAT_MS } });
    const snapshot = await waitFor(`${zone}'s snapshot`, () => probe.received.find((m) => m.batch?.last)?.batch);
    expect(probe.received.some((m) => m.batch?.keys.some((k) => k.privatePem.includes('PRIVATE KEY')))).toBe(true);
    return { probe, version: snapshot.toVersion };
  }

  async function ended(probe: ProbeStream): Promise<{ code: number; details: string } | 'still open'> {
    let timer: NodeJS.Timeout | undefined;
    const stillOpen = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), END_WAIT_MS)));
    try {
      return await Promise.race([probe.closed, stillOpen]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function revoke(token: string): Promise<void> {
    revoked.push(jtiOf(token));
    const res = await jsonRequest(
      'PUT',
      `${global.url}/global-secrets/zone-token-revocations`,
      { type: 'GlobalSecret', name: 'zone-token-revocations', data: Buffer.from(revoked.join(',')).toString('base64') },
      global.adminToken,
    );
    expect(res.status, res.text).toBeLessThan(300);
  }

  async function rotateUserKey(): Promise<number> {
    const res = await rawRequest(`${global.url}/tokens/user/signing-keys`, { method: 'POST', headers: { authorization: `Bearer ${global.adminToken}` } });
    expect(res.status, res.text).toBe(201);
    return res.json.serial as number;
  }

  async function expectOneWarnLine(zone: string, reason: RegExp, token: string): Promise<void> {
    const line = await global.daemon.waitForLog((l) => l.msg === ENDED_LOG && l.zone === zone);
    expect(line).toMatchObject({ level: 40, reason: expect.stringMatching(reason) });
    const lines = global.daemon.output.filter((l) => l.includes(ENDED_LOG) && l.includes(`"zone":"${zone}"`));
    expect(lines).toHaveLength(1);
    expect(global.daemon.output.filter((l) => l.includes(token.split('.')[2]!))).toEqual([]);
  }

  it('acks only, no heartbeats: revoking the token ends the stream, and the next private key never reaches it', async () => {
    const token = await zoneToken('zone-acks');
    const { probe, version } = await connected('zone-acks', token);
    // The zone keeps talking, but never a Heartbeat: acks alone must not keep it authenticated.
    timers.push(setInterval(() => probe.send({ ack: { version } }), 100));
    await revoke(token);
    const serial = await rotateUserKey();
    expect(await ended(probe)).toEqual({ code: status.UNAUTHENTICATED, details: 'zone token is revoked' });
    expect(keySerials(probe.received)).not.toContain(serial);
    await expectOneWarnLine('zone-acks', /^zone token is revoked$/, token);
    const zones = await rawRequest(`${global.url}/zones`, { headers: { authorization: `Bearer ${global.adminToken}` } });
    expect(zones.json.items.find((z: { zone: string }) => z.zone === 'zone-acks')).toMatchObject({ connected: false, lastError: 'zone token is revoked' });
  });

  it('silent after Hello, and silent before Hello: revoking the token ends both streams', async () => {
    const token = await zoneToken('zone-silent');
    const { probe: afterHello } = await connected('zone-silent', token);
    const beforeHello = open(token);
    await revoke(token);
    const serial = await rotateUserKey();
    expect(await ended(afterHello)).toEqual({ code: status.UNAUTHENTICATED, details: 'zone token is revoked' });
    expect(await ended(beforeHello)).toEqual({ code: status.UNAUTHENTICATED, details: 'zone token is revoked' });
    expect(keySerials(afterHello.received)).not.toContain(serial);
    expect(beforeHello.received).toEqual([]);
  });

  it('an expiring token: the stream ends at exp although the zone keeps acking', async () => {
    const res = await jsonRequest('POST', `${global.url}/tokens/zone`, { zone: 'zone-expiring', scope: ['cp'], validFor: '6s' }, global.adminToken);
    expect(res.status, res.text).toBe(200);
    const { probe, version } = await connected('zone-expiring', res.text);
    timers.push(setInterval(() => probe.send({ ack: { version } }), 100));
    expect(await ended(probe)).toEqual({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/^zone token expired at /) });
    const serial = await rotateUserKey();
    expect(keySerials(probe.received)).not.toContain(serial);
    await expectOneWarnLine('zone-expiring', /^zone token expired at /, res.text);
  });

  it('removing the zone-token signing key ends the streams of its tokens, and only those', async () => {
    const oldKeyToken = await zoneToken('zone-old-key');
    const { probe: oldKeyStream } = await connected('zone-old-key', oldKeyToken);
    const pem = await generateRsaPrivateKeyPem();
    const put = await jsonRequest('PUT', `${global.url}/global-secrets/zone-token-signing-key-2`, { type: 'GlobalSecret', name: 'zone-token-signing-key-2', data: Buffer.from(pem).toString('base64') }, global.adminToken);
    expect(put.status, put.text).toBeLessThan(300);
    const newKeyToken = await zoneToken('zone-new-key');
    expect(JSON.parse(Buffer.from(newKeyToken.split('.')[0]!, 'base64url').toString()).kid).toBe('2');
    const { probe: newKeyStream } = await connected('zone-new-key', newKeyToken);

    const removed = await rawRequest(`${global.url}/global-secrets/zone-token-signing-key-1`, { method: 'DELETE', headers: { authorization: `Bearer ${global.adminToken}` } });
    expect(removed.status, removed.text).toBeLessThan(300);
    const serial = await rotateUserKey();
    expect(await ended(oldKeyStream)).toEqual({ code: status.UNAUTHENTICATED, details: expect.stringMatching(/signing key 1, which has been rotated out/) });
    expect(keySerials(oldKeyStream.received)).not.toContain(serial);
    await expectOneWarnLine('zone-old-key', /rotated out/, oldKeyToken);
    // The stream of a token from the remaining key is untouched and gets the new key.
    await waitFor('the new key on the unaffected stream', () => keySerials(newKeyStream.received).includes(serial));
  });
});
