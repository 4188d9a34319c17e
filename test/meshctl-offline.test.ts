import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir } from './support/daemon.js';
import { createMeshctl, stackFrame } from './support/meshctl.js';

// meshctl commands that need no control plane, and how meshctl fails when it cannot reach one.
describe('meshctl without a control plane', () => {
  const dir = tempDir('meshctl-offline-');
  const meshctl = createMeshctl(dir.path);
  const file = (name: string) => join(dir.path, name);
  afterAll(() => dir.remove());

  it('config control-planes add/list/switch/remove keep a 0600 config and never list the token', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJOYW1lIjoiam9obiJ9.c2lnbmF0dXJl';
    await meshctl.ok('config', 'control-planes', 'add', '--name=west', '--address=http://127.0.0.1:1', '--auth-type', 'tokens', '--auth-conf', `token=${token}`);
    const added = await meshctl.ok('config', 'control-planes', 'add', '--name', 'east', '--address', 'https://east.example:5682', '--skip-verify');
    expect(added.stdout).toMatch(/east.*switched/);

    expect(statSync(meshctl.configPath).mode & 0o777).toBe(0o600);
    const stored = parse(readFileSync(meshctl.configPath, 'utf8'));
    expect(stored.currentContext).toBe('east');
    expect(stored.controlPlanes[0].coordinates.apiServer).toMatchObject({ url: 'http://127.0.0.1:1', authType: 'tokens', authConf: { token } });

    const [table, json, yaml] = await Promise.all([
      meshctl.ok('config', 'control-planes', 'list'),
      meshctl.ok('config', 'control-planes', 'list', '-o', 'json'),
      meshctl.ok('config', 'control-planes', 'list', '-o', 'yaml'),
    ]);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ACTIVE\s+NAME\s+ADDRESS\s+AUTH$/);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^\s+west\s+http:\/\/127\.0\.0\.1:1\s+tokens$/), expect.stringMatching(/^\*\s+east\s+https:\/\/east\.example:5682\s+none \(skip-verify\)$/)]);
    for (const output of [table.stdout, json.stdout, yaml.stdout]) expect(output).not.toContain(token);
    expect(JSON.parse(json.stdout).map((p: { name: string; active: boolean }) => [p.name, p.active])).toEqual([['west', false], ['east', true]]);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));

    await meshctl.ok('config', 'control-planes', 'switch', '--name=west');
    expect(parse(readFileSync(meshctl.configPath, 'utf8')).currentContext).toBe('west');
    const unknown = await meshctl.run(['config', 'control-planes', 'switch', '--name=north']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^Error: no control plane named "north" \(known: west, east\)\n$/);

    const duplicate = await meshctl.run(['config', 'control-planes', 'add', '--name=west', '--address=http://127.0.0.1:2']);
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toMatch(/already exists; use --overwrite/);

    const removed = await meshctl.ok('config', 'control-planes', 'remove', '--name=west');
    expect(removed.stdout).toMatch(/no control plane is active/);
    expect(statSync(meshctl.configPath).mode & 0o777).toBe(0o600);
    const noneActive = await meshctl.run(['who-am-i']);
    expect(noneActive.code).not.toBe(0);
    expect(noneActive.stderr).toMatch(/^Error: no active control plane; .*switch --name NAME.*known: east/);
    await meshctl.ok('config', 'control-planes', 'remove', '--name=east');
    expect(parse(readFileSync(meshctl.configPath, 'utf8'))).toEqual({ controlPlanes: [], currentContext: '' });
  });

  it('an unreachable address fails with one stderr line naming it; --verbose adds the stack', async () => {
    const port = await closedPort();
    const address = `http://127.0.0.1:${port}`;
    const other = createMeshctl(join(dir.path, 'unreachable'));
    await other.ok('config', 'control-planes', 'add', '--name=down', `--address=${address}`);
    const [plain, verbose] = await Promise.all([other.run(['get', 'global-secrets']), other.run(['--verbose', 'get', 'global-secrets'])]);
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toBe(`Error: cannot reach control plane at ${address}: connection refused\n`);
    expect(verbose.code).not.toBe(0);
    expect(verbose.stderr.split('\n')[0]).toBe(`Error: cannot reach control plane at ${address}: connection refused`);
    expect(verbose.stderr).toMatch(stackFrame);
  });

  it('bad flags and arguments exit non-zero with a message and no stack trace', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['generate', 'user-token', '--name=john'], /required option '--valid-for <duration>' not specified/],
      [['get', 'global-secrets', '-o', 'xml'], /argument 'xml' is invalid.*table, json, yaml/],
      [['who-am-i', '--bogus'], /unknown option '--bogus'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['revoke', 'user-token'], /give --jti ID, --token JWT, --name USER or --group GROUP/],
      [['revoke', 'user-token', '--jti=a', '--token=b'], /--jti.*cannot be used with.*--token/],
      [['config', 'control-planes', 'add', '--name=x', '--address=localhost:5681'], /must start with http:\/\/ or https:\/\//],
      [['config', 'control-planes', 'add', '--name=x', '--address=http://localhost:5681', '--auth-conf', 'token=a'], /--auth-conf needs --auth-type tokens/],
      [['config', 'control-planes', 'add', '--name=x', '--address=http://localhost:5681', '--auth-type=tokens'], /--auth-type tokens needs --auth-conf token=/],
      [['config', 'control-planes', 'add', '--name=x', '--address=http://localhost:5681', '--skip-verify'], /need an https:\/\/ --address/],
      [['generate', 'signing-key', '--format=der'], /argument 'der' is invalid/],
      [['generate', 'tls-certificate', '--type=peer', '--cert-file=a', '--key-file=b'], /argument 'peer' is invalid/],
      [['generate', 'zone-token', '--zone=west', '--scope=mesh', '--valid-for=1h'], /--scope mesh: expected cp, ingress or egress/],
      [['generate', 'dataplane-token', '--name=web', '--tag', 'version', '--valid-for=1h'], /--tag version: expected key=value/],
      [['generate', 'dataplane-token', '--mesh=default', '--valid-for=1h'], /required option '--name <name>' not specified/],
      [['inspect', 'token', 'not-a-token'], /malformed token: expected 3 dot-separated parts, got 1/],
      [['apply', '-f', file('missing.yaml')], /cannot read .*missing\.yaml/],
    ];
    const runs = await Promise.all(cases.map(([args]) => meshctl.run(args)));
    runs.forEach((run, i) => {
      const [args, message] = cases[i]!;
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stdout, args.join(' ')).toBe('');
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr, args.join(' ')).not.toMatch(stackFrame);
    });
  });

  it('--help of every command has an Examples section', async () => {
    const commands = [
      [], ['config'], ['config', 'control-planes'], ['config', 'control-planes', 'add'], ['config', 'control-planes', 'list'],
      ['config', 'control-planes', 'switch'], ['config', 'control-planes', 'remove'], ['generate'], ['generate', 'user-token'],
      ['generate', 'signing-key'], ['generate', 'zone-token'], ['generate', 'dataplane-token'], ['generate', 'tls-certificate'],
      ['rotate'], ['rotate', 'signing-key'], ['revoke'], ['revoke', 'user-token'], ['inspect'], ['inspect', 'token'], ['inspect', 'zones'],
      ['get'], ['get', 'global-secrets'], ['get', 'global-secret'], ['get', 'secrets'], ['get', 'secret'], ['delete'],
      ['delete', 'global-secret'], ['delete', 'secret'], ['apply'], ['who-am-i'],
    ];
    const runs = await Promise.all(commands.map((command) => meshctl.run([...command, '--help'])));
    runs.forEach((run, i) => {
      const name = ['meshctl', ...commands[i]!].join(' ');
      expect(run.code, name).toBe(0);
      expect(run.stdout, name).toContain(`Usage: ${name}`);
      expect(run.stdout, name).toMatch(/\nExamples:\n(.*\n)*? {2,}.*meshctl /);
    });
    // A reader that stops early (| head) is not an error.
    expect(await meshctl.shell('meshctl generate --help | true')).toEqual({ code: 0, stdout: '', stderr: '' });
    // The docs' own commands, verbatim.
    const help = (words: string) => runs[commands.findIndex((c) => c.join(' ') === words)]!.stdout;
    expect(help('generate user-token')).toContain('--name john \\\n    --group team-a \\\n    --valid-for 24h');
    expect(help('generate user-token')).toContain('meshctl generate user-token --name=john --group=team-a --valid-for=24h | meshctl inspect token -');
    expect(help('generate tls-certificate')).toContain('meshctl generate tls-certificate --type=client \\\n    --cert-file=/tmp/tls.crt \\\n    --key-file=/tmp/tls.key');
    expect(help('config control-planes add')).toContain('--client-cert-file=/tmp/tls.crt');
  });

  it('generate signing-key prints a new RSA 2048 PKCS#1 key, base64 of the PEM by default', async () => {
    const [base64, pem] = await Promise.all([meshctl.ok('generate', 'signing-key'), meshctl.ok('generate', 'signing-key', '--format', 'pem')]);
    expect(base64.stdout).toMatch(/^[A-Za-z0-9+/]+={0,2}\n$/);
    const decoded = Buffer.from(base64.stdout.trim(), 'base64').toString('utf8');
    for (const text of [decoded, pem.stdout]) {
      expect(text).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----\n$/);
      const key = createPrivateKey(text);
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
    expect(decoded).not.toBe(pem.stdout);
  });

  it('generate tls-certificate writes client and server certificates with their keys (0600) and SANs', async () => {
    const [client, server, defaults] = await Promise.all([
      meshctl.ok('generate', 'tls-certificate', '--type=client', `--cert-file=${file('client.crt')}`, `--key-file=${file('client.key')}`),
      meshctl.ok('generate', 'tls-certificate', '--type=server', '--hostname=cp.example.com', '--hostname', '10.1.2.3',
        `--cert-file=${file('server.crt')}`, `--key-file=${file('server.key')}`),
      meshctl.ok('generate', 'tls-certificate', '--type=server', `--cert-file=${file('local.crt')}`, `--key-file=${file('local.key')}`),
    ]);
    expect(client.stdout).toBe(`wrote client certificate to ${file('client.crt')} and its key to ${file('client.key')}\n`);
    expect(server.stdout).toContain('wrote server certificate');
    expect(defaults.stdout).toContain('wrote server certificate');

    for (const [name, usage] of [['client', '1.3.6.1.5.5.7.3.2'], ['server', '1.3.6.1.5.5.7.3.1'], ['local', '1.3.6.1.5.5.7.3.1']] as const) {
      const cert = new X509Certificate(readFileSync(file(`${name}.crt`)));
      expect(cert.keyUsage, name).toContain(usage);
      expect(cert.checkPrivateKey(createPrivateKey(readFileSync(file(`${name}.key`)))), name).toBe(true);
      expect(statSync(file(`${name}.key`)).mode & 0o777, name).toBe(0o600);
    }
    const san = (name: string) => new X509Certificate(readFileSync(file(`${name}.crt`))).subjectAltName ?? '';
    expect(san('server')).toMatch(/DNS:cp\.example\.com/);
    expect(san('server')).toMatch(/IP Address:10\.1\.2\.3/);
    expect(san('local')).toMatch(/DNS:localhost/);
    expect(san('local')).toMatch(/IP Address:127\.0\.0\.1/);
  });

  it("inspect token prints the docs' example token exactly as the docs show it", async () => {
    // The docs' page was rendered at UTC+1; their example times only read the same in that zone.
    const result = await meshctl.run(['inspect', 'token', DOCS_TOKEN], { env: { TZ: 'Europe/Paris' } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    // Then, since the docs' token expired in 2021, a line saying how long ago (its two largest non-zero units: `1844d 41m` when the hours are 0).
    const [shown, expired] = [result.stdout.replace(/\nExpired: \d+d(?: \d+[hms])? ago\n/, '\n'), /\nExpired: (\d+)d(?: \d+[hms])? ago\n✻ Signature /.exec(result.stdout)];
    expect(Number(expired?.[1])).toBeGreaterThan(365);
    expect(shown).toBe(
      [
        '✻ Header',
        '{',
        '  "alg": "RS256",',
        '  "kid": "1",',
        '  "typ": "JWT"',
        '}',
        '✻ Payload',
        '{',
        '  "Name": "john",',
        '  "Groups": [',
        '    "team-a"',
        '  ],',
        '  "exp": 1636811674,',
        '  "nbf": 1636724974,',
        '  "iat": 1636725274,',
        '  "jti": "bf3d0b2e-d840-4cb6-bf7c-b90f54391468"',
        '}',
        'Issued At: 1636725274 11/12/2021, 2:54:34 PM',
        'Not Before: 1636724974 11/12/2021, 2:49:34 PM',
        'Expiration Time: 1636811674 11/13/2021, 2:54:34 PM',
        `✻ Signature ${DOCS_TOKEN.split('.')[2]}`,
        '',
      ].join('\n'),
    );
    const json = await meshctl.ok('inspect', 'token', DOCS_TOKEN, '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ header: { alg: 'RS256', kid: '1', typ: 'JWT' }, payload: { Name: 'john', Groups: ['team-a'] } });
  });
});

/** A loopback port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const DOCS_TOKEN =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEiLCJ0eXAiOiJKV1QifQ.eyJOYW1lIjoiam9obiIsIkdyb3VwcyI6WyJ0ZWFtLWEiXSwiZXhwIjoxNjM2ODExNjc0LCJuYmYiOjE2MzY3MjQ5NzQsImlhdCI6MTYzNjcyNTI3NCwianRpIjoiYmYzZDBiMmUtZDg0MC00Y2I2LWJmN2MtYjkwZjU0MzkxNDY4In0.' +
  'XsaPcQ5wVzRLs4o1FWywf6kw4r2ceyLGxYO8EbyA0fAxU6BPPRsW71ueD8ZlS4JlD4UrVtQQ7LG-z_nIxlDRAYhx4mmHnSjtqWZIsVS13QRrm41zccZ0SKHYxGvWMW4IkGwUbA0UZOJGno8vbpI6jTGfY9bmof5FpJJAj_sf99jCaI1H_n3n5UxtwKVN7dXXD82r6axj700jgQD-2O8gnejzlTjZkBpPF_lGnlBbd39S34VNwT0UlvRJLmCRdfh5EL24dFt0tyzQqDG2gE1RuGvTV9LOT77ZsjfMP9CITICivF6Z7uqvlOYal10jd5gN0A6w6KSI8CCaDLmVgUHvAw';
