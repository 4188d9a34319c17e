import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { defaults } from './defaults.js';
import { envNameOf, knownEnvNames, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'meshauth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

function loadError(options: Parameters<typeof loadConfig>[0]): MeshAuthError {
  try {
    loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshAuthError);
    expect((error as MeshAuthError).code).toBe('ERR_INVALID_CONFIG');
    return error as MeshAuthError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('envNameOf', () => {
  it('derives env names from setting paths', () => {
    expect(envNameOf('multizone.zone.globalAddress')).toBe('MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS');
    expect(envNameOf('apiServer.https.tlsCertFile')).toBe('MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE');
    expect(envNameOf('apiServer.authn.tokens.bootstrapAdminToken')).toBe('MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN');
    expect(envNameOf('access.static.generateUserToken.groups')).toBe('MESHAUTH_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS');
  });

  it('knows every env name the spec lists', () => {
    const names = knownEnvNames();
    for (const name of [
      'MESHAUTH_STORE_SQLITE_PATH',
      'MESHAUTH_API_SERVER_HTTP_PORT',
      'MESHAUTH_API_SERVER_HTTP_INTERFACE',
      'MESHAUTH_API_SERVER_HTTPS_PORT',
      'MESHAUTH_API_SERVER_HTTPS_ENABLED',
      'MESHAUTH_API_SERVER_HTTPS_TLS_CERT_FILE',
      'MESHAUTH_API_SERVER_HTTPS_TLS_KEY_FILE',
      'MESHAUTH_API_SERVER_AUTHN_LOCALHOST_IS_ADMIN',
      'MESHAUTH_API_SERVER_AUTHN_TYPE',
      'MESHAUTH_API_SERVER_AUTHN_TOKENS_BOOTSTRAP_ADMIN_TOKEN',
      'MESHAUTH_API_SERVER_AUTHN_CLIENT_CERTS_CA_FILE',
      'MESHAUTH_ACCESS_STATIC_ADMIN_RESOURCES_USERS',
      'MESHAUTH_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS',
      'MESHAUTH_ACCESS_STATIC_GENERATE_DP_TOKEN_USERS',
      'MESHAUTH_ACCESS_STATIC_GENERATE_ZONE_TOKEN_GROUPS',
      'MESHAUTH_MULTIZONE_GLOBAL_SYNC_PORT',
      'MESHAUTH_MULTIZONE_ZONE_NAME',
      'MESHAUTH_DP_SERVER_PORT',
    ]) {
      expect(names).toContain(name);
    }
  });
});

describe('loadConfig', () => {
  it('gives the defaults, deeply frozen, when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(defaults);
    expect(Object.isFrozen(config.apiServer.http)).toBe(true);
    expect(Object.isFrozen(config.access.static.adminResources.groups)).toBe(true);
  });

  it('lets the file win over defaults and env win over the file', () => {
    const file = yamlFile('apiServer:\n  http:\n    port: 7000\n    interface: 127.0.0.1\nlogLevel: warn\n');
    const fromFile = loadConfig({ file, env: {} });
    expect(fromFile.apiServer.http).toEqual({ port: 7000, interface: '127.0.0.1' });
    expect(fromFile.logLevel).toBe('warn');

    const both = loadConfig({ file, env: { MESHAUTH_API_SERVER_HTTP_PORT: '7001' } });
    expect(both.apiServer.http).toEqual({ port: 7001, interface: '127.0.0.1' });
    expect(both.logLevel).toBe('warn');
  });

  it('coerces env values to the type of the default', () => {
    const config = loadConfig({
      env: {
        MESHAUTH_API_SERVER_HTTPS_ENABLED: 'false',
        MESHAUTH_API_SERVER_BODY_LIMIT: '2048',
        MESHAUTH_ACCESS_STATIC_GENERATE_USER_TOKEN_GROUPS: 'team-a, team-b,,',
        MESHAUTH_ACCESS_STATIC_ADMIN_RESOURCES_USERS: 'alice',
      },
    });
    expect(config.apiServer.https.enabled).toBe(false);
    expect(config.apiServer.bodyLimit).toBe(2048);
    expect(config.access.static.generateUserToken.groups).toEqual(['team-a', 'team-b']);
    expect(config.access.static.adminResources).toEqual({ users: ['alice'], groups: ['mesh-system:admin'] });
  });

  it('ignores env vars without the MESHAUTH_ prefix', () => {
    expect(loadConfig({ env: { KUMA_API_SERVER_HTTP_PORT: 'x', PATH: '/bin' } })).toEqual(defaults);
  });

  it('refuses an unknown env var, naming it', () => {
    expect(loadError({ env: { MESHAUTH_API_SERVER_HTTP_PROT: '1' } }).message).toBe(
      'invalid configuration: MESHAUTH_API_SERVER_HTTP_PROT is not a known setting',
    );
  });

  it('refuses an unknown file key, naming its path and the file', () => {
    const file = yamlFile('apiServer:\n  htp:\n    port: 1\n');
    expect(loadError({ file, env: {} }).message).toBe(`invalid configuration: apiServer.htp (in ${file}) is not a known setting`);
  });

  it.each([
    [{ MESHAUTH_API_SERVER_HTTP_PORT: 'eighty' }, /MESHAUTH_API_SERVER_HTTP_PORT must be an integer, got "eighty"/],
    [{ MESHAUTH_API_SERVER_HTTP_PORT: '70000' }, /apiServer\.http\.port \(MESHAUTH_API_SERVER_HTTP_PORT\) must be a port 0-65535, got 70000/],
    [{ MESHAUTH_API_SERVER_HTTPS_ENABLED: 'yes' }, /MESHAUTH_API_SERVER_HTTPS_ENABLED must be true or false, got "yes"/],
    [{ MESHAUTH_API_SERVER_AUTHN_TYPE: 'password' }, /apiServer\.authn\.type \(MESHAUTH_API_SERVER_AUTHN_TYPE\) must be one of tokens, adminClientCerts/],
    [{ MESHAUTH_API_SERVER_AUTHN_TOKENS_MAX_VALID_FOR: '1y' }, /apiServer\.authn\.tokens\.maxValidFor .*invalid duration "1y"/],
    [{ MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: 'http://global:5685' }, /multizone\.zone\.globalAddress .*must look like grpc:\/\/host:5685/],
    [{ MESHAUTH_MULTIZONE_ZONE_DOWN_POLICY: 'deny-after:soon' }, /multizone\.zone\.downPolicy .*invalid duration "soon"/],
  ])('refuses a bad env value %j, naming the setting', (env, message) => {
    expect(loadError({ env }).message).toMatch(message);
  });

  it.each([
    ['apiServer:\n  http:\n    port: "5681"\n', /apiServer\.http\.port must be a number, got "5681"/],
    ['access:\n  static:\n    adminResources:\n      groups: admins\n', /access\.static\.adminResources\.groups must be a list of strings/],
    ['apiServer: 5\n', /apiServer must be a mapping/],
    ['logLevel: loud\n', /logLevel \(MESHAUTH_LOG_LEVEL\) must be one of/],
  ])('refuses a bad file value, naming the setting (%j)', (text, message) => {
    expect(loadError({ file: yamlFile(text), env: {} }).message).toMatch(message);
  });

  it('refuses an unreadable or unparsable file, naming it', () => {
    const missing = join(dir, 'missing.yaml');
    expect(loadError({ file: missing, env: {} }).message).toMatch(`cannot read config file ${missing}`);
    expect(loadError({ file: yamlFile('a: [\n'), env: {} }).message).toMatch(/cannot read config file/);
  });

  it('accepts an empty file', () => {
    expect(loadConfig({ file: yamlFile(''), env: {} })).toEqual(defaults);
  });
});
