import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { createProgram } from './program.js';
import { DOCS_TOKEN } from './test-support/docs-token.js';
import { problem, startFakeControlPlane, type FakeControlPlane, type FakeReply, type RecordedRequest } from './test-support/fake-control-plane.js';
import { memoryIo } from './test-support/memory-io.js';
import { signToken, testKey, userClaims } from './test-support/sign-token.js';
import { meshctlVersion } from './version.js';

/** meshctl run in-process against a fake control plane, with its own config file. */
describe('meshctl', () => {
  let dir: string;
  let cp: FakeControlPlane | undefined;
  let handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshctl-cli-'));
    handler = () => ({ body: {} });
    cp = await startFakeControlPlane((req) => handler(req));
  });
  afterEach(async () => {
    await cp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[], options: { stdin?: string } = {}) {
    const io = memoryIo({ env: { MESHCTL_CONFIG: join(dir, 'config.yaml') }, ...options });
    const code = await runCli(['node', 'meshctl', ...args], io);
    return { code, out: io.out, err: io.err };
  }

  const addFakeControlPlane = () =>
    run(['config', 'control-planes', 'add', '--name', 'fake', '--address', cp!.url, '--auth-type', 'tokens', '--auth-conf', 'token=admin-token']);

  it('prints its version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${meshctlVersion()}\n`, err: '' });
  });

  it('has an example in the --help of every command', () => {
    const io = memoryIo();
    const all = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(all)];
    const commands = all(createProgram(io));
    expect(commands.length).toBeGreaterThanOrEqual(28);
    for (const command of commands) {
      io.out = '';
      command.outputHelp();
      expect(io.out, command.name()).toMatch(/\nExamples:\n[\s\S]*\bmeshctl /);
    }
  });

  it('stores the control plane with mode 0600 and uses its token', async () => {
    expect((await addFakeControlPlane()).code).toBe(0);
    expect((await stat(join(dir, 'config.yaml'))).mode & 0o777).toBe(0o600);
    handler = () => ({ body: { name: 'mesh-system:admin', groups: ['mesh-system:admin', 'mesh-system:authenticated'] } });
    const result = await run(['who-am-i']);
    expect(result).toEqual({
      code: 0,
      out: 'NAME                GROUPS\nmesh-system:admin   mesh-system:admin,mesh-system:authenticated\n',
      err: '',
    });
    expect(cp!.requests[0]?.headers['authorization']).toBe('Bearer admin-token');
    expect(JSON.parse((await run(['who-am-i', '-o', 'json'])).out)).toEqual({
      name: 'mesh-system:admin',
      groups: ['mesh-system:admin', 'mesh-system:authenticated'],
    });
  });

  it('never lists tokens', async () => {
    await addFakeControlPlane();
    const listed = await run(['config', 'control-planes', 'list', '-o', 'yaml']);
    expect(listed.out).toContain('name: fake');
    expect(listed.out).not.toContain('admin-token');
    expect((await run(['config', 'control-planes', 'list'])).out).toMatch(/^ACTIVE\s+NAME\s+ADDRESS\s+AUTH\n\*\s+fake\s+http/);
  });

  it('generate user-token prints only the token, so it pipes', async () => {
    await addFakeControlPlane();
    handler = () => ({ contentType: 'text/plain', body: DOCS_TOKEN });
    const result = await run(['generate', 'user-token', '--name=john', '--group=team-a', '--valid-for=24h']);
    expect(result).toEqual({ code: 0, out: `${DOCS_TOKEN}\n`, err: '' });
    expect(JSON.parse(cp!.requests[0]!.body)).toEqual({ name: 'john', groups: ['team-a'], validFor: '24h' });
    const inspected = await run(['inspect', 'token', '-'], { stdin: result.out });
    expect(inspected.out).toContain('"jti": "bf3d0b2e-d840-4cb6-bf7c-b90f54391468"');
    expect(inspected.out).toMatch(/\nIssued At: 1636725274 11\/1[23]\/2021, /);
  });

  it('names empty stdin instead of calling it a malformed token (the generate before the pipe failed)', async () => {
    expect(await run(['inspect', 'token', '-'], { stdin: '' })).toEqual({ code: 1, out: '', err: 'Error: no token on stdin\n' });
    expect(await run(['revoke', 'user-token', '--token', '-'], { stdin: '\n' })).toEqual({ code: 1, out: '', err: 'Error: no token on stdin\n' });
  });

  it('sends dataplane tags as {key: [values]} and zone scope cp by default', async () => {
    await addFakeControlPlane();
    handler = () => ({ contentType: 'text/plain', body: 'jwt\n' });
    await run(['generate', 'dataplane-token', '--name', 'backend-01', '--tag', 'kuma.io/service=backend', '--tag', 'version=v1', '--valid-for', '1h']);
    await run(['generate', 'zone-token', '--zone', 'west', '--valid-for', '720h']);
    expect(cp!.requests.map((r) => [r.url, JSON.parse(r.body)])).toEqual([
      [
        '/tokens/dataplane',
        { name: 'backend-01', mesh: 'default', tags: { 'kuma.io/service': ['backend'], version: ['v1'] }, type: 'dataplane', validFor: '1h' },
      ],
      ['/tokens/zone', { zone: 'west', scope: ['cp'], validFor: '720h' }],
    ]);
  });

  it('reports a refused request on one line of stderr, and exits 1', async () => {
    await addFakeControlPlane();
    handler = () => problem(401, 'Unauthorized', 'token expired');
    expect(await run(['get', 'global-secrets'])).toEqual({ code: 1, out: '', err: 'Error: 401 Unauthorized: token expired\n' });
    const verbose = await run(['get', 'global-secrets', '--verbose']);
    expect(verbose.err.split('\n')[0]).toBe('Error: 401 Unauthorized: token expired');
    expect(verbose.err).toContain('    at ');
  });

  it('says which address it could not reach', async () => {
    await addFakeControlPlane();
    const url = cp!.url;
    await cp!.close();
    cp = undefined;
    expect(await run(['who-am-i'])).toEqual({ code: 1, out: '', err: `Error: cannot reach control plane at ${url}: connection refused\n` });
  });

  it('inspect token --verify says revoked and exits non-zero', async () => {
    await addFakeControlPlane();
    const key = testKey('1');
    const token = signToken(key, userClaims(Math.floor(Date.now() / 1000)));
    handler = (req) => (req.url === '/.well-known/jwks.json' ? { body: key.jwks } : problem(401, 'Unauthorized', 'user token is revoked'));
    const revoked = await run(['inspect', 'token', token, '--verify']);
    expect(revoked.code).toBe(1);
    expect(revoked.out).toContain('\nVerification: revoked (user token is revoked)\n');
    expect(revoked.err).toBe('');
    expect(cp!.requests.find((r) => r.url === '/who-am-i')?.headers['authorization']).toBe(`Bearer ${token}`);

    handler = (req) => (req.url === '/.well-known/jwks.json' ? { body: key.jwks } : { body: { name: 'john', groups: [] } });
    const valid = await run(['inspect', 'token', token, '--verify', '-o', 'json']);
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.out).verification).toEqual({ verdict: 'valid' });
  });

  it('applies resources from stdin with --var', async () => {
    await addFakeControlPlane();
    handler = () => ({ status: 201, body: {} });
    const template = 'type: GlobalSecret\nname: user-token-revocations\ndata: {{ revocations }}\n';
    const result = await run(['apply', '--var', 'revocations=YWJj', '-f', '-'], { stdin: template });
    expect(result).toEqual({ code: 0, out: 'GlobalSecret "user-token-revocations" created\n', err: '' });
    expect(cp!.requests[0]?.method).toBe('PUT');
    expect(cp!.requests[0]?.url).toBe('/global-secrets/user-token-revocations');
    expect(JSON.parse(cp!.requests[0]!.body)).toEqual({ type: 'GlobalSecret', name: 'user-token-revocations', data: 'YWJj' });
  });

  it('gets and deletes global secrets', async () => {
    await addFakeControlPlane();
    const secret = { type: 'GlobalSecret', name: 'admin-user-token', data: 'ZXlK' };
    handler = (req) => (req.method === 'DELETE' ? { body: {} } : req.url === '/global-secrets' ? { body: { total: 1, items: [secret] } } : { body: secret });
    expect((await run(['get', 'global-secrets'])).out).toBe('NAME               TYPE\nadmin-user-token   GlobalSecret\n');
    expect((await run(['get', 'global-secret', 'admin-user-token', '-o', 'yaml'])).out).toBe(
      'type: GlobalSecret\nname: admin-user-token\ndata: ZXlK\n',
    );
    expect((await run(['delete', 'global-secret', 'admin-user-token'])).out).toBe('deleted GlobalSecret "admin-user-token"\n');
    expect(cp!.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /global-secrets',
      'GET /global-secrets/admin-user-token',
      'DELETE /global-secrets/admin-user-token',
    ]);
  });

  it('revokes a token read from stdin', async () => {
    await addFakeControlPlane();
    handler = () => ({ status: 201, body: { jti: 'bf3d0b2e', revokedAt: '2025-01-01T00:00:00Z', expiresAt: null } });
    const result = await run(['revoke', 'user-token', '--token', '-'], { stdin: `${DOCS_TOKEN}\n` });
    expect(result).toEqual({ code: 0, out: 'revoked user token bf3d0b2e\n', err: '' });
    expect(JSON.parse(cp!.requests[0]!.body)).toEqual({ token: DOCS_TOKEN });
  });

  it('shows zones as a table', async () => {
    await addFakeControlPlane();
    handler = () => ({
      body: {
        items: [
          { zone: 'east', connected: true, mode: 'public', ackedVersion: 7, versionsBehind: 0, lagMs: 12, lastAckAt: '2025-01-01T00:00:00Z', lastError: null },
          { zone: 'west', connected: false, mode: 'off', ackedVersion: 0, versionsBehind: 7, lagMs: 0, lastAckAt: null, lastError: 'token expired' },
        ],
      },
    });
    const lines = (await run(['inspect', 'zones'])).out.split('\n');
    expect(lines[0]).toMatch(/^ZONE\s+CONNECTED\s+MODE\s+ACKED VERSION\s+BEHIND\s+LAG\s+LAST ACK\s+LAST ERROR$/);
    expect(lines[1]).toMatch(/^east\s+yes\s+public\s+7\s+0\s+12ms\s+2025-01-01T00:00:00Z\s+-$/);
    expect(lines[2]).toMatch(/^west\s+no\s+off\s+0\s+7\s+0ms\s+-\s+token expired$/);
  });

  it('refuses contradictory or incomplete flags on one line', async () => {
    const conflict = await run(['config', 'control-planes', 'add', '--name=x', '--address=https://h:5682', '--ca-cert-file=/tmp/ca.crt', '--skip-verify']);
    expect(conflict.code).toBe(1);
    expect(conflict.err).toMatch(/^Error: option '--ca-cert-file <path>' cannot be used with option '--skip-verify'\n$/);
    expect((await run(['revoke', 'user-token'])).err).toBe('Error: give --jti ID, --token JWT, --name USER or --group GROUP\n');
    expect((await run(['config', 'control-planes', 'add', '--name=x', '--address=localhost:5681'])).err).toBe(
      'Error: --address localhost:5681 must start with http:// or https://\n',
    );
  });

  it('writes a client certificate and a key only its owner can read', async () => {
    const certFile = join(dir, 'tls.crt');
    const keyFile = join(dir, 'tls.key');
    const result = await run(['generate', 'tls-certificate', '--type=client', `--cert-file=${certFile}`, `--key-file=${keyFile}`]);
    expect(result.code).toBe(0);
    expect(await readFile(certFile, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(await readFile(keyFile, 'utf8')).toMatch(/-----BEGIN (RSA )?PRIVATE KEY-----/);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  }, 30_000); // loads @meshauth/core and generates an RSA key
});
