import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http, issueUserToken } from './support/http.js';
import { createMeshctl } from './support/meshctl.js';
import { hello, openProbe, startGlobal, startZone, writeZoneToken, type Global } from './support/sync-cluster.js';
import { waitFor } from './support/wait-for.js';

/**
 * SPEC §10: every token global issues is recorded (never the token), listed by subject, revoked
 * by subject with the revocations synced to zones; every admin action is in the audit log (and
 * the JSON-lines file), with names only, never a secret value.
 */
describe('issued-token records, revocation by subject and the audit log', () => {
  const dir = tempDir('meshauth-audit-');
  const auditFile = join(dir.path, 'audit.jsonl');
  const meshctl = createMeshctl(join(dir.path, 'meshctl'));
  let global: Global;
  let zone: Daemon;
  let instance: string;
  const tokens: Record<string, string> = {};
  const jtiOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  const who = async (plane: { url: string }, token: string) => (await http('GET', `${plane.url}/who-am-i`, { token })).status;
  const audit = async (query = '') => (await http('GET', `${global.url}/audit${query}`, { token: global.adminToken })).json as { items: Record<string, any>[]; next: string | null };
  /** Every value the audit log must never hold: tokens, key material, secret data. */
  const secretValues: string[] = [];

  beforeAll(async () => {
    global = await startGlobal(join(dir.path, 'global.db'), { MESHAUTH_AUDIT_FILE: auditFile });
    instance = (await http('GET', `${global.url}/`)).json.instance as string;
    zone = await startZone('zone-1', join(dir.path, 'zone-1.db'), { mode: 'public', globalAddress: global.syncAddress, tokenFile: await writeZoneToken(global, dir.path, 'zone-1') });
    await meshctl.ok('config', 'control-planes', 'add', '--name=global', `--address=${global.url}`, '--auth-type', 'tokens', '--auth-conf', `token=${global.adminToken}`);
    for (const [key, name, groups] of [['john-1', 'john', ['team-a']], ['john-2', 'john', []], ['jane', 'jane', ['team-a']], ['bob', 'bob', ['team-b']]] as const) {
      tokens[key] = await issueUserToken(global.url, global.adminToken, name, [...groups]);
    }
    secretValues.push(global.adminToken, ...Object.values(tokens));
  });

  afterAll(async () => {
    await stopAll();
    dir.remove();
  });

  it('records every user token issued, lists them by name and by group, and never holds the token', async () => {
    const byName = await http('GET', `${global.url}/tokens/user?name=john`, { token: global.adminToken });
    expect(byName.status).toBe(200);
    expect(byName.json.items.map((t: { jti: string }) => t.jti).sort()).toEqual([jtiOf(tokens['john-1']!), jtiOf(tokens['john-2']!)].sort());
    expect(byName.json.items[0]).toMatchObject({ name: 'john', issuedBy: 'mesh-system:admin', instance, revoked: false, expired: false });
    // A fresh store recorded from its first key: nothing can have been issued unrecorded.
    expect(byName.json.unrecordedBefore).toBeUndefined();
    const byGroup = await http('GET', `${global.url}/tokens/user?group=team-a`, { token: global.adminToken });
    expect(byGroup.json.items.map((t: { name: string }) => t.name).sort()).toEqual(['jane', 'john']);
    const all = await http('GET', `${global.url}/tokens/user`, { token: global.adminToken });
    // The bootstrap admin token is a recorded token too.
    expect(all.json.items.map((t: { name: string }) => t.name).sort()).toEqual(['bob', 'jane', 'john', 'john', 'mesh-system:admin']);
    for (const token of secretValues) expect(all.text).not.toContain(token.split('.')[2]);
    // Listing is an admin read: bob may not.
    expect((await http('GET', `${global.url}/tokens/user?name=john`, { token: tokens.bob })).status).toBe(403);

    const table = await meshctl.ok('get', 'user-tokens', '--name', 'john');
    expect(table.stdout.split('\n')[0]).toMatch(/^JTI\s+NAME\s+GROUPS\s+ISSUED\s+EXPIRES\s+ISSUED BY\s+STATUS$/);
    expect(table.stdout).toContain(jtiOf(tokens['john-1']!));
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
    const json = JSON.parse((await meshctl.ok('get', 'user-tokens', '--group', 'team-b', '-o', 'json')).stdout);
    expect(json.items).toEqual([expect.objectContaining({ jti: jtiOf(tokens.bob!), name: 'bob', groups: ['team-b'] })]);
  });

  it('revokes every token of a user in one call, refused then on global and on the synced zone', async () => {
    for (const key of ['john-1', 'john-2', 'jane']) await waitFor('the zone to accept the token', async () => (await who(zone, tokens[key]!)) === 200);
    const result = await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { name: 'john' } });
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ revoked: 2, jtis: expect.arrayContaining([jtiOf(tokens['john-1']!), jtiOf(tokens['john-2']!)]) });
    for (const key of ['john-1', 'john-2']) {
      expect(await who(global, tokens[key]!)).toBe(401);
      await waitFor('the zone to refuse john\'s token', async () => (await who(zone, tokens[key]!)) === 401);
    }
    expect(await who(zone, tokens.jane!)).toBe(200);
    const listed = (await http('GET', `${global.url}/tokens/user?name=john`, { token: global.adminToken })).json.items;
    expect(listed.map((t: { revoked: boolean }) => t.revoked)).toEqual([true, true]);
    // Again: nothing left to revoke.
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { name: 'john' } })).json.revoked).toBe(0);
  });

  it('revokes every token naming a group with meshctl, on global and the zone, and leaves other groups alone', async () => {
    const run = await meshctl.ok('revoke', 'user-token', '--group', 'team-a');
    // john-1 (team-a) is revoked already: only jane's is new.
    expect(run.stdout).toBe('revoked 1 user token of group team-a\n');
    expect(await who(global, tokens.jane!)).toBe(401);
    await waitFor('the zone to refuse jane\'s token', async () => (await who(zone, tokens.jane!)) === 401);
    expect(await who(global, tokens.bob!)).toBe(200);
    expect(await who(zone, tokens.bob!)).toBe(200);
    // The old ways stay.
    const usage = await meshctl.run(['revoke', 'user-token']);
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toMatch(/--jti ID, --token JWT, --name USER or --group GROUP/);
    expect((await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { jti: 'some-jti' } })).status).toBe(201);
  });

  it('audits each kind of admin action with actor, target, result, instance and request id', async () => {
    const secretData = Buffer.from('a-secret-value-never-logged').toString('base64');
    secretValues.push(secretData, 'a-secret-value-never-logged');
    expect((await http('PUT', `${global.url}/global-secrets/my-secret`, { token: global.adminToken, body: { type: 'GlobalSecret', name: 'my-secret', data: secretData } })).status).toBe(201);
    expect((await http('DELETE', `${global.url}/global-secrets/my-secret`, { token: global.adminToken })).status).toBe(200);
    const created = await http('POST', `${global.url}/tokens/user/signing-keys`, { token: global.adminToken });
    expect(created.status).toBe(201);
    const serial = created.json.serial as number;
    secretValues.push(Buffer.from((await http('GET', `${global.url}/global-secrets/user-token-signing-key-${serial}`)).json.data, 'base64').toString());
    expect((await http('DELETE', `${global.url}/global-secrets/user-token-signing-key-${serial}?force=true`)).status).toBe(200);
    const refused = await http('POST', `${global.url}/tokens/user`, { token: tokens.bob, body: { name: 'bob', groups: ['mesh-system:admin'], validFor: '1h' } });
    expect(refused.status).toBe(403);
    const probe = openProbe(global.syncPort, undefined);
    probe.send(hello('intruder', 'SYNC_MODE_PUBLIC'));
    await probe.closed;
    probe.close();

    const expected: [string, Record<string, unknown>][] = [
      ['user-token.generate', { actor: 'bootstrap', target: 'user mesh-system:admin (global secret admin-user-token)' }],
      ['user-token.generate', { actor: 'mesh-system:admin', actorGroups: ['mesh-system:admin', 'mesh-system:authenticated'], target: 'user bob (groups: team-b)' }],
      ['zone-token.generate', { actor: 'localhost admin', target: 'zone zone-1 (scope: cp)' }],
      ['user-token.revoke', { target: 'every token of user john', result: 'revoked 2' }],
      ['user-token.revoke', { target: 'every token of group team-a', result: 'revoked 1' }],
      ['user-token.revoke', { target: 'user token some-jti' }],
      ['signing-key.create', { target: `user token signing key ${serial}` }],
      ['signing-key.delete', { actor: 'localhost admin', target: `global secret user-token-signing-key-${serial}` }],
      ['secret.put', { target: 'global secret my-secret' }],
      ['secret.delete', { target: 'global secret my-secret' }],
      ['access.refuse', { actor: 'bob', actorGroups: ['team-b', 'mesh-system:authenticated'], target: 'POST /tokens/user', result: 'refused: not allowed to generateUserToken' }],
      ['access.refuse', { actor: 'bob', target: 'GET /tokens/user' }],
      ['sync.accept', { actor: 'zone zone-1', result: 'accepted (mode public)' }],
      ['sync.refuse', { result: expect.stringMatching(/^refused: missing zone token/) }],
    ];
    const { items } = await audit('?size=1000');
    for (const [action, fields] of expected) {
      expect(items, action).toContainEqual(expect.objectContaining({ action, plane: 'global', instance, ...fields }));
    }
    const ok = items.find((e) => e.action === 'secret.put')!;
    expect(ok).toMatchObject({ result: 'success', requestId: expect.stringMatching(/.+/) });
    expect(Date.parse(ok.time)).toBeGreaterThan(Date.now() - 60_000);
    const text = JSON.stringify(items);
    for (const value of secretValues) expect(text).not.toContain(value);
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('filters by actor, action and time, and pages newest first with a cursor', async () => {
    const everything = (await audit('?size=1000')).items;
    const first = await audit('?size=3');
    expect(first.items).toEqual(everything.slice(0, 3));
    const second = await audit(`?size=3&cursor=${first.next}`);
    expect(second.items).toEqual(everything.slice(3, 6));
    expect((await audit('?actor=bob')).items.every((e) => e.actor === 'bob')).toBe(true);
    expect((await audit('?action=secret.put')).items.map((e) => e.target)).toEqual(['global secret my-secret']);
    expect((await audit(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).items).toEqual([]);
    expect((await http('GET', `${global.url}/audit?since=yesterday`, { token: global.adminToken })).json.invalid_parameters).toEqual([{ field: 'since', reason: expect.any(String) }]);

    const table = await meshctl.ok('get', 'audit', '--action', 'secret.delete');
    expect(table.stdout).toMatch(/^TIME\s+ACTOR\s+ACTION\s+TARGET\s+RESULT\n.*mesh-system:admin\s+secret\.delete\s+global secret my-secret\s+success\n$/);
    const limited = JSON.parse((await meshctl.ok('get', 'audit', '--limit', '2', '-o', 'json')).stdout);
    expect(limited.items).toEqual(everything.slice(0, 2));
  });

  it('appends the same entries to the audit file as JSON lines', async () => {
    const lines = readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const { items } = await audit('?size=1000');
    expect(lines.slice().reverse()).toEqual(items);
    for (const value of secretValues) expect(readFileSync(auditFile, 'utf8')).not.toContain(value);
  });

  it('fails an action whose entry cannot be written (503) and does not do it', async () => {
    // A directory where the file was: every append fails.
    rmSync(auditFile);
    mkdirSync(auditFile);
    try {
      const put = await http('PUT', `${global.url}/global-secrets/unaudited`, { token: global.adminToken, body: { type: 'GlobalSecret', name: 'unaudited', data: 'eA==' } });
      expect(put.status).toBe(503);
      expect(put.json.detail).toMatch(/cannot append to the audit file/);
      const issue = await http('POST', `${global.url}/tokens/user`, { token: global.adminToken, body: { name: 'ghost', groups: [], validFor: '1h' } });
      expect(issue.status).toBe(503);
      expect(issue.text).not.toMatch(/^ey/);
      const revoke = await http('POST', `${global.url}/tokens/user/revocations`, { token: global.adminToken, body: { name: 'bob' } });
      expect(revoke.status).toBe(503);
      expect(await who(global, tokens.bob!)).toBe(200);
      const refusal = await http('GET', `${global.url}/audit`, { token: tokens.bob });
      expect(refusal.status).toBe(503);
    } finally {
      rmSync(auditFile, { recursive: true });
    }
    expect((await http('GET', `${global.url}/global-secrets/unaudited`, { token: global.adminToken })).status).toBe(404);
    expect((await http('GET', `${global.url}/tokens/user?name=ghost`, { token: global.adminToken })).json.items).toEqual([]);
    expect((await audit('?size=1000')).items.map((e) => e.target)).not.toContain('global secret unaudited');
  });
});
