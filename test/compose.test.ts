/**
 * docker-compose.yml, docker-compose.ha.yml and the Dockerfile, checked without a Docker engine:
 * every command runs a binary this repo builds, every environment name is a setting the binaries
 * know (with a value they accept), published ports are the ones the configuration listens on,
 * volumes and depends_on hold together, and the Dockerfile produces what the commands run. The
 * one-shot `zone-tokens` scripts are run for real against a real global-cp.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { knownEnvNames, loadConfig, type MeshAuthConfig } from '@meshauth/core';
import { startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.mjs';
import { repoRoot, startDaemon, stopAll, tempDir } from './support/daemon.js';
import { dockerfileStages } from './support/dockerfile.js';
import { waitFor } from './support/wait-for.js';

interface Service {
  build?: unknown;
  restart?: string;
  image?: string;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean> | string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const readCompose = (file: string) => parseYaml(readFileSync(join(repoRoot, file), 'utf8')) as ComposeFile;
const compose = readCompose('docker-compose.yml');
const services = compose.services;
const ha = readCompose('docker-compose.ha.yml');
const composeFiles = [
  ['docker-compose.yml', compose],
  ['docker-compose.ha.yml', ha],
] as const;

/** bin name → [package folder, bin path], from each package's package.json. */
const binaries = new Map<string, [string, string]>();
/** Package → the node arguments it declares (`meshauth.nodeArgs`), which every launcher passes. */
const declaredNodeArgs = new Map<string, string[]>();
for (const pkg of readdirSync(join(repoRoot, 'packages'))) {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', pkg, 'package.json'), 'utf8')) as { bin?: Record<string, string>; meshauth?: { nodeArgs?: string[] } };
  for (const [name, path] of Object.entries(manifest.bin ?? {})) binaries.set(name, [pkg, path]);
  declaredNodeArgs.set(pkg, manifest.meshauth?.nodeArgs ?? []);
}

/** Every `node [--flags] <script>` in a command line: the flags and the script. */
function nodeRuns(text: string): { args: string[]; script: string }[] {
  return [...text.matchAll(/\bnode((?:\s+--\S+)*)\s+(\S+)/g)].map((m) => ({ args: m[1]!.trim().split(/\s+/).filter(Boolean), script: m[2]! }));
}

/** What is wrong with the node runs of a command line: something else than a built binary, or other flags than its package declares. */
function nodeRunProblems(text: string): string[] {
  return nodeRuns(text).flatMap(({ args, script }) => {
    const pkg = /^(?:\.\/|\/app\/)?packages\/([\w-]+)\/dist\/main\.js$/.exec(script)?.[1];
    if (!pkg) return [`node runs ${script}`];
    const declared = declaredNodeArgs.get(pkg) ?? [];
    return args.join(' ') === declared.join(' ') ? [] : [`${script} runs with [${args.join(' ')}], its package declares [${declared.join(' ')}]`];
  });
}

/** The whole command line of a service, entrypoint and command joined, as one shell-ish text. */
function commandText(service: Service): string {
  const part = (p: string | string[] | undefined) => (Array.isArray(p) ? p.join(' ') : (p ?? ''));
  return `${part(service.entrypoint)} ${part(service.command)}`;
}

/** The packages a service runs: `node packages/<pkg>/dist/main.js` or a bin name as a word. */
function packagesRun(service: Service): string[] {
  const text = commandText(service);
  const found = nodeRuns(text).flatMap(({ script }) => /^(?:\.\/|\/app\/)?packages\/([\w-]+)\/dist\/main\.js$/.exec(script)?.[1] ?? []);
  for (const [bin, [pkg]] of binaries) if (new RegExp(`(^|[\\s;&|(])${bin}(?=\\s|$)`).test(text)) found.push(pkg);
  return [...new Set(found)];
}

/**
 * A value as compose hands it to the container when the variables it names are unset:
 * `${NAME:-default}` and `${NAME-default}` give the default, `${NAME}` nothing, `$$` a `$`.
 */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{(\w+)(?::?-([^}]*))?\}/g, (match, _name: string | undefined, fallback: string | undefined) => (match === '$$' ? '$' : (fallback ?? '')));
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), interpolate(e.slice(e.indexOf('=') + 1))]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v))]));
}

/** Built from this repository's Dockerfile (the others are images pulled as they are, e.g. postgres). */
const isOurs = (service: Service) => service.build === '.';

const daemonKinds = { 'global-cp': 'global', 'zone-cp': 'zone' } as const;

function daemonOf(service: Service): 'global-cp' | 'zone-cp' | undefined {
  return packagesRun(service).find((p): p is 'global-cp' | 'zone-cp' => p in daemonKinds);
}

/**
 * The ports a daemon with this configuration serves clients on (published). Its diagnostics port
 * (5680: GET /ready, /healthy) is for the healthcheck inside the container and stays unpublished.
 */
function listeningPorts(kind: 'global-cp' | 'zone-cp', config: MeshAuthConfig): number[] {
  const api = [config.apiServer.http.port, ...(config.apiServer.https.enabled ? [config.apiServer.https.port] : [])];
  return kind === 'global-cp' ? [...api, config.multizone.global.syncPort] : [...api, config.dpServer.port];
}

/** "15681:5681", "127.0.0.1:15681:5681/tcp" → { host: 15681, container: 5681 }. */
function parsePort(spec: string): { host: number; container: number } {
  const parts = spec.replace(/\/tcp$/, '').split(':');
  return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
}

function namedVolumeAt(service: Service, dir: string): string | undefined {
  return (service.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === dir)?.[0];
}

/** The zones the one-shot `zone-tokens` script writes a token for (its `for zone in …; do` list). */
function zonesOfTokenScript(service: Service): string[] {
  return /for zone in ([^;]+);/.exec(commandText(service))?.[1]!.trim().split(/\s+/) ?? [];
}

/** The checks every compose file of this repository passes. */
for (const [file, { services: all, volumes }] of composeFiles) {
  describe(`${file}: what every compose file here must hold`, () => {
    const ours = Object.entries(all).filter(([, s]) => isOurs(s));
    const daemons = ours.flatMap(([name, s]) => (daemonOf(s) ? [[name, s, daemonOf(s)!] as const] : []));

    it("builds each meshauth service from this repo's Dockerfile; the rest are official images", () => {
      for (const [name, service] of Object.entries(all)) {
        if (isOurs(service)) expect(service.image ?? 'meshauth:local', `${name}'s image tag`).toBe('meshauth:local');
        // An official (library) image: a bare name and tag, no registry, no namespace.
        else expect(service.image, `${name} is neither built here nor an official image`).toMatch(/^[a-z0-9]+(?:[._-][a-z0-9]+)*:[\w][\w.-]*$/);
      }
    });

    it("every meshauth service's command runs a binary that the build produces", () => {
      for (const [name, service] of ours) {
        const pkgs = packagesRun(service);
        expect(pkgs.length, `${name} runs no meshauth binary: ${commandText(service)}`).toBeGreaterThan(0);
        for (const pkg of pkgs) {
          expect(existsSync(join(repoRoot, 'packages', pkg, 'src', 'main.ts')), `packages/${pkg}/src/main.ts`).toBe(true);
          expect(existsSync(join(repoRoot, 'packages', pkg, 'dist', 'main.js')), `packages/${pkg}/dist/main.js (after pnpm build)`).toBe(true);
        }
        expect(nodeRunProblems(commandText(service)), name).toEqual([]);
      }
    });

    it('uses only environment names the binaries know, with values they accept', () => {
      const known = new Set(knownEnvNames());
      for (const [name, service] of ours) {
        const env = envOf(service);
        if (!daemonOf(service)) {
          expect(Object.keys(env), `${name} runs meshctl, which takes no MESHAUTH_ settings`).toEqual([]);
          continue;
        }
        for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key} is not a meshauth setting`).toBe(true);
        expect(() => loadConfig({ env }), `${name}'s environment`).not.toThrow();
      }
    });

    it('publishes exactly the ports each daemon listens on, on distinct host ports, and nothing else', () => {
      const hostPorts: number[] = [];
      for (const [name, service] of Object.entries(all)) {
        const kind = isOurs(service) ? daemonOf(service) : undefined;
        if (!kind) {
          expect(service.ports, `${name} publishes no ports`).toBeUndefined();
          continue;
        }
        const published = (service.ports ?? []).map(parsePort);
        const listening = listeningPorts(kind, loadConfig({ env: envOf(service) }));
        const byNumber = (a: number, b: number) => a - b;
        expect(published.map((p) => p.container).sort(byNumber), `${name}'s published container ports`).toEqual([...listening].sort(byNumber));
        hostPorts.push(...published.map((p) => p.host));
      }
      expect(new Set(hostPorts).size).toBe(hostPorts.length);
    });

    it("gives every daemon a healthcheck that GETs /ready on its own diagnostics port, which it does not publish", () => {
      expect(daemons.length).toBeGreaterThan(0);
      for (const [name, service] of daemons) {
        const config = loadConfig({ env: envOf(service) });
        const probe = service.healthcheck?.test;
        expect(probe, `${name} has a healthcheck`).toBeDefined();
        expect(probe!.slice(0, 2), name).toEqual(['CMD', 'curl']);
        expect(probe, `${name}: curl fails on an HTTP error`).toContain('-fsS');
        expect(probe!.at(-1), name).toBe(`http://127.0.0.1:${config.diagnostics.serverPort}/ready`);
        expect((service.ports ?? []).map(parsePort).map((p) => p.container), `${name} keeps its diagnostics port inside`).not.toContain(config.diagnostics.serverPort);
      }
    });

    it('declares every named volume it mounts and mounts every one it declares; each SQLite store has its own', () => {
      const mounted = new Map<string, string[]>();
      for (const [name, service] of Object.entries(all)) {
        for (const volume of service.volumes ?? []) {
          const source = volume.split(':')[0]!;
          if (source.startsWith('.') || source.startsWith('/')) continue; // a bind mount
          expect(volumes, `${name} mounts ${source}`).toHaveProperty(source);
          mounted.set(source, [...(mounted.get(source) ?? []), name]);
        }
      }
      expect([...mounted.keys()].sort()).toEqual(Object.keys(volumes).sort());
      for (const [name, service] of daemons) {
        const config = loadConfig({ env: envOf(service) });
        if (config.store.type !== 'sqlite') continue;
        expect(posix.isAbsolute(config.store.sqlite.path), `${name} sets an absolute store path`).toBe(true);
        const volume = namedVolumeAt(service, posix.dirname(config.store.sqlite.path));
        expect(volume, `${name}'s store folder is a volume`).toBeDefined();
        expect(mounted.get(volume!), `${name}'s store volume is its own`).toEqual([name]);
      }
    });

    it('wires every zone to the one-shot zone-tokens service, which writes a token for each zone', () => {
      const oneShot = all['zone-tokens']!;
      const zones = daemons.filter(([, , kind]) => kind === 'zone-cp');
      expect(zones.length).toBeGreaterThan(0);
      const zoneNames = new Set(zones.map(([, service]) => loadConfig({ env: envOf(service) }).multizone.zone.name));
      expect(zonesOfTokenScript(oneShot).sort()).toEqual([...zoneNames].sort());
      for (const [name, service] of zones) {
        const config = loadConfig({ env: envOf(service) });
        const zone = config.multizone.zone.name;
        // The service is the zone, or one of its replicas (zone-1a, zone-1b).
        expect(name === zone || new RegExp(`^${zone}[a-z]$`).test(name), `${name} runs zone ${zone}`).toBe(true);
        const tokenDir = posix.dirname(config.multizone.zone.globalTokenFile);
        expect(config.multizone.zone.globalTokenFile).toBe(`${tokenDir}/${zone}.token`);
        expect(namedVolumeAt(service, tokenDir)).toBe(namedVolumeAt(oneShot, tokenDir));
        expect(commandText(oneShot)).toContain(`${tokenDir}/$$zone.token`);
        expect(service.depends_on?.['zone-tokens']?.condition).toBe('service_completed_successfully');
      }
    });

    it('depends only on services that exist, waiting for health where there is a healthcheck and for completion of a one-shot', () => {
      for (const [name, service] of Object.entries(all)) {
        for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
          expect(all, `${name} depends on ${target}`).toHaveProperty(target);
          expect(['service_healthy', 'service_completed_successfully'], `${name} → ${target}`).toContain(condition);
          if (condition === 'service_healthy') expect(all[target]!.healthcheck, `${target} has a healthcheck`).toBeDefined();
          else expect(all[target]!.restart, `${target} runs once`).toBe('no');
        }
      }
      // A daemon on PostgreSQL starts once the database answers.
      for (const [name, service] of daemons) {
        const config = loadConfig({ env: envOf(service) });
        if (config.store.type !== 'postgres') continue;
        expect(all, `${name}'s database host is a service`).toHaveProperty(config.store.postgres.host);
        expect(service.depends_on?.[config.store.postgres.host]?.condition).toBe('service_healthy');
      }
    });

    it("starts zone-tokens once its global is healthy, on that global's loopback (localhost is admin there)", () => {
      const oneShot = all['zone-tokens']!;
      const host = /^service:(.+)$/.exec(oneShot.network_mode ?? '')?.[1];
      expect(host, 'zone-tokens shares a global\'s network namespace').toBeDefined();
      expect(daemonOf(all[host!]!)).toBe('global-cp');
      expect(oneShot.depends_on?.[host!]?.condition).toBe('service_healthy');
      expect(loadConfig({ env: envOf(all[host!]!) }).apiServer.authn.localhostIsAdmin).toBe(true);
      expect(commandText(oneShot)).toContain(`--address http://127.0.0.1:${loadConfig({ env: envOf(all[host!]!) }).apiServer.http.port}`);
      for (const [name, service] of ours) {
        if (!service.healthcheck) continue;
        const probe = service.healthcheck.test;
        expect(probe[0], name).toBe('CMD');
        expect(finalStageInstalls(), `${name}'s healthcheck tool is installed in the image`).toContain(probe[1]);
      }
    });
  });
}

describe('docker-compose.ha.yml: global and zone replicas on PostgreSQL', () => {
  const all = ha.services;
  const postgres = all.postgres!;
  const globals = ['global-1', 'global-2'] as const;
  const zoneReplicas = ['zone-1a', 'zone-1b'] as const;
  const configOf = (name: string) => loadConfig({ env: envOf(all[name]!) });

  it('runs PostgreSQL, two global replicas, the one-shot zone-tokens service and zone-1 as two replicas', () => {
    expect(Object.keys(all).sort()).toEqual(['global-1', 'global-2', 'postgres', 'zone-1a', 'zone-1b', 'zone-tokens']);
    for (const name of globals) expect(daemonOf(all[name]!)).toBe('global-cp');
    for (const name of zoneReplicas) expect(daemonOf(all[name]!)).toBe('zone-cp');
    expect(packagesRun(all['zone-tokens']!)).toEqual(['ctl']);
    expect(all['zone-tokens']!.network_mode).toBe('service:global-1');
  });

  it('runs the official postgres:18 image with a pg_isready healthcheck and its data on a named volume', () => {
    expect(postgres.image).toBe('postgres:18');
    expect(postgres.build).toBeUndefined();
    const probe = postgres.healthcheck!.test;
    expect(probe.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    const env = envOf(postgres);
    const arg = (flag: string) => probe[probe.indexOf(flag) + 1];
    expect(arg('-U')).toBe(env.POSTGRES_USER);
    expect(arg('-d')).toBe(env.POSTGRES_DB);
    // PostgreSQL 18's image keeps PGDATA under /var/lib/postgresql/18/docker and declares the parent as its volume.
    const volume = namedVolumeAt(postgres, '/var/lib/postgresql');
    expect(volume).toBeDefined();
    expect(ha.volumes).toHaveProperty(volume!);
  });

  it('gives both globals the same PostgreSQL settings, pointing at that service, with a demo-only password', () => {
    const [one, two] = globals.map(configOf);
    for (const config of [one!, two!]) expect(config.store.type).toBe('postgres');
    expect(two!.store.postgres).toEqual(one!.store.postgres);
    expect(two!.multizone.global).toEqual(one!.multizone.global);
    const db = envOf(postgres);
    expect(one!.store.postgres).toMatchObject({ host: 'postgres', port: 5432, user: db.POSTGRES_USER, dbName: db.POSTGRES_DB, password: db.POSTGRES_PASSWORD });
    // The password comes from one variable, the same for the database and both replicas, and its default says what it is.
    const raw = [postgres.environment as Record<string, string>, ...globals.map((g) => all[g]!.environment as Record<string, string>)].map((e) => e.POSTGRES_PASSWORD ?? e.MESHAUTH_STORE_POSTGRES_PASSWORD);
    expect(new Set(raw).size).toBe(1);
    expect(raw[0]).toMatch(/^\$\{\w+:-[^}]+\}$/);
    expect(db.POSTGRES_PASSWORD).toMatch(/demo/);
  });

  it("makes both zone replicas list both globals' sync addresses, in order, and start after them", () => {
    const addresses = globals.map((g) => `grpc://${g}:${configOf(g).multizone.global.syncPort}`);
    for (const name of zoneReplicas) {
      const zone = configOf(name);
      expect(zone.multizone.zone.name).toBe('zone-1');
      expect(zone.multizone.zone.globalAddress).toBe(addresses.join(','));
      expect(zone.multizone.zone.globalAddress).toBe('grpc://global-1:5685,grpc://global-2:5685');
      expect(zone.multizone.zone.syncUserTokenKeys).toBe('public');
      for (const g of globals) expect(all[name]!.depends_on?.[g] ?? all['zone-tokens']!.depends_on?.[g], `${name} starts after ${g}`).toMatchObject({ condition: 'service_healthy' });
    }
    expect(configOf('global-1').multizone.global.syncUserTokenKeys).toBe('public');
  });

  it("gives both zone replicas the same settings and a database of their own, which the image's init script creates", () => {
    const [a, b] = zoneReplicas.map(configOf);
    expect(b!.store).toEqual(a!.store);
    expect(b!.multizone.zone).toEqual(a!.multizone.zone);
    expect(a!.store.type).toBe('postgres');
    const db = envOf(postgres);
    expect(a!.store.postgres).toMatchObject({ host: 'postgres', port: 5432, user: db.POSTGRES_USER, password: db.POSTGRES_PASSWORD });
    // Not global's database: the zone's state (its leader lease, its change log) is its own.
    expect(a!.store.postgres.dbName).not.toBe(configOf('global-1').store.postgres.dbName);
    expect((all['zone-1a']!.environment as Record<string, string>).MESHAUTH_STORE_POSTGRES_PASSWORD).toBe((postgres.environment as Record<string, string>).POSTGRES_PASSWORD);
    // The official image runs /docker-entrypoint-initdb.d/*.sql once, on an empty data directory.
    const init = (postgres.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === '/docker-entrypoint-initdb.d');
    expect(init, 'postgres mounts an init folder').toBeDefined();
    expect(init![0]).toMatch(/^\.\//);
    const folder = join(repoRoot, init![0]!);
    const sql = readdirSync(folder)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => readFileSync(join(folder, f), 'utf8').replace(/--.*$/gm, ''))
      .join('\n');
    expect(sql).toMatch(new RegExp(`^\\s*CREATE DATABASE ${a!.store.postgres.dbName};`, 'm'));
    // The healthcheck names global's database, which the image creates last: healthy means initialised.
    expect(postgres.healthcheck!.test).toContain(db.POSTGRES_DB);
    for (const name of zoneReplicas) expect(all[name]!.volumes, `${name} keeps no SQLite volume`).toEqual(['zone-tokens:/tokens:ro']);
  });

  it('has init SQL that a real PostgreSQL runs on POSTGRES_DB (as the image does, as a superuser), creating the zone replicas\' database', async () => {
    const folder = join(repoRoot, (postgres.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === '/docker-entrypoint-initdb.d')![0]!);
    const pg = await startEmbeddedPostgres({ dbName: envOf(postgres).POSTGRES_DB });
    try {
      for (const file of readdirSync(folder).filter((f) => f.endsWith('.sql')).sort()) await pg.query(readFileSync(join(folder, file), 'utf8'));
      const rows = await pg.query('SELECT datname FROM pg_database WHERE datname = $1', [configOf('zone-1a').store.postgres.dbName]);
      expect(rows).toHaveLength(1);
    } finally {
      await pg.stop();
    }
  }, 60_000);
});

describe('docker-compose.yml', () => {
  it('runs a global, two zones and the one-shot zone-tokens service, all from this repo\'s image', () => {
    expect(Object.keys(services).sort()).toEqual(['global', 'zone-1', 'zone-2', 'zone-tokens']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.build, `${name} is built by the Dockerfile`).toBe('.');
    }
    expect(daemonOf(services.global!)).toBe('global-cp');
    expect(daemonOf(services['zone-1']!)).toBe('zone-cp');
    expect(daemonOf(services['zone-2']!)).toBe('zone-cp');
    expect(packagesRun(services['zone-tokens']!)).toEqual(['ctl']);
  });

  it("every service's command runs a binary that the build produces", () => {
    expect([...binaries.keys()].sort()).toEqual(['global-cp', 'meshctl', 'zone-cp']);
    // Each bin is a committed shim (so `pnpm install` links it before any build) that runs dist/main.js.
    for (const [bin, [pkg, path]] of binaries) {
      expect(posix.normalize(path)).toBe(`bin/${bin}.js`);
      const shim = readFileSync(join(repoRoot, 'packages', pkg, path), 'utf8');
      const args = declaredNodeArgs.get(pkg)!;
      expect(shim.split('\n')[0]).toBe(args.length === 0 ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node ${args.join(' ')}`);
      expect(shim).toMatch(/^import '\.\.\/dist\/main\.js';$/m);
    }
    // The root scripts (`pnpm -s zone-cp …`) start each binary with its declared node arguments too.
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const [bin, [pkg]] of binaries) {
      expect(nodeRuns(scripts[bin] ?? '').map((run) => run.script), `package.json script ${bin}`).toEqual([`packages/${pkg}/dist/main.js`]);
      expect(nodeRunProblems(scripts[bin]!), `package.json script ${bin}`).toEqual([]);
    }
    expect(declaredNodeArgs.get('zone-cp'), 'a test that cannot fail otherwise: zone-cp declares some').not.toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      const pkgs = packagesRun(service);
      expect(pkgs.length, `${name} runs no meshauth binary: ${commandText(service)}`).toBeGreaterThan(0);
      for (const pkg of pkgs) {
        expect(existsSync(join(repoRoot, 'packages', pkg, 'src', 'main.ts')), `packages/${pkg}/src/main.ts`).toBe(true);
        expect(existsSync(join(repoRoot, 'packages', pkg, 'dist', 'main.js')), `packages/${pkg}/dist/main.js (after pnpm build)`).toBe(true);
      }
      // Nothing but the binaries this repo builds (and the shell around the one-shot script).
      expect(nodeRunProblems(commandText(service)), name).toEqual([]);
    }
  });

  it('uses only environment names the binaries know, with values they accept', () => {
    const known = new Set(knownEnvNames());
    expect(known.has('MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADRESS')).toBe(false); // a misspelling must fail below
    for (const [name, service] of Object.entries(services)) {
      const env = envOf(service);
      const kind = daemonOf(service);
      if (!kind) {
        expect(Object.keys(env), `${name} runs meshctl, which takes no MESHAUTH_ settings`).toEqual([]);
        continue;
      }
      for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key} is not a meshauth setting`).toBe(true);
      expect(() => loadConfig({ env }), `${name}'s environment`).not.toThrow();
    }
  });

  it('publishes exactly the ports each daemon is configured to listen on, on distinct host ports', () => {
    const hostPorts: number[] = [];
    for (const [name, service] of Object.entries(services)) {
      const kind = daemonOf(service);
      if (!kind) {
        expect(service.ports, `${name} publishes no ports`).toBeUndefined();
        continue;
      }
      const published = (service.ports ?? []).map(parsePort);
      const listening = listeningPorts(kind, loadConfig({ env: envOf(service) }));
      const byNumber = (a: number, b: number) => a - b;
      expect(published.map((p) => p.container).sort(byNumber), `${name}'s published container ports`).toEqual([...listening].sort(byNumber));
      hostPorts.push(...published.map((p) => p.host));
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('keeps each SQLite file on its own named volume and wires the zones to global', () => {
    const globalConfig = loadConfig({ env: envOf(services.global!) });
    const stores = new Set<string>();
    for (const [name, service] of Object.entries(services)) {
      const kind = daemonOf(service);
      if (!kind) continue;
      const config = loadConfig({ env: envOf(service) });
      expect(posix.isAbsolute(config.store.sqlite.path), `${name} sets an absolute store path`).toBe(true);
      const volume = namedVolumeAt(service, posix.dirname(config.store.sqlite.path));
      expect(volume, `${name}'s store folder is a volume`).toBeDefined();
      expect(compose.volumes).toHaveProperty(volume!);
      stores.add(volume!);
      if (kind === 'zone-cp') {
        expect(config.multizone.zone.name).toBe(name);
        expect(config.multizone.zone.globalAddress).toBe(`grpc://global:${globalConfig.multizone.global.syncPort}`);
        // The token file is on the volume the one-shot writes into.
        const tokenDir = posix.dirname(config.multizone.zone.globalTokenFile);
        expect(namedVolumeAt(service, tokenDir)).toBe(namedVolumeAt(services['zone-tokens']!, tokenDir));
        expect(commandText(services['zone-tokens']!)).toContain(`${tokenDir}/$$zone.token`);
        expect(service.depends_on?.['zone-tokens']?.condition).toBe('service_completed_successfully');
      }
    }
    expect(stores.size).toBe(3);
    expect(envOf(services['zone-1']!).MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS).toBe('public');
    expect(envOf(services['zone-2']!).MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS).toBe('private');
    expect(globalConfig.multizone.global.syncUserTokenKeys).toBe('private');
  });

  it('starts zone-tokens once global is healthy, on global\'s loopback (localhost is admin there)', () => {
    const oneShot = services['zone-tokens']!;
    expect(oneShot.depends_on?.global?.condition).toBe('service_healthy');
    expect(oneShot.network_mode).toBe('service:global');
    expect(loadConfig({ env: envOf(services.global!) }).apiServer.authn.localhostIsAdmin).toBe(true);
    const probe = services.global!.healthcheck!.test;
    expect(probe[0]).toBe('CMD');
    expect(finalStageInstalls(), 'the healthcheck tool is installed in the image').toContain(probe[1]);
  });
});

function finalStageInstalls(): string[] {
  const run = dockerfileStages().at(-1)!.steps.filter((s) => s.op === 'RUN' && s.args.includes('apt-get install'));
  return run.flatMap((s) => s.args.split(/[\s&;]+/)).filter((w) => /^[a-z][\w.+-]*$/.test(w));
}

describe('Dockerfile', () => {
  const stages = dockerfileStages();
  const build = stages[0]!;
  const final = stages.at(-1)!;
  const index = (steps: { op: string; args: string }[], op: string, match: RegExp) => steps.findIndex((s) => s.op === op && match.test(s.args));

  it('builds on node:20-bookworm-slim with build tools, the pinned pnpm and the frozen lockfile', () => {
    // Every stage not built on an earlier one.
    for (const stage of stages) if (!stages.some((s) => s.name === stage.from)) expect(stage.from).toBe('node:20-bookworm-slim');
    const rootManifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string; scripts: Record<string, string> };
    expect(index(build.steps, 'RUN', /apt-get install .*python3.*make.*g\+\+/)).toBeGreaterThanOrEqual(0);
    expect(index(build.steps, 'RUN', new RegExp(`npm i(nstall)? -g ${rootManifest.packageManager.replace('.', '\\.')}\\b`))).toBeGreaterThanOrEqual(0);
    const install = index(build.steps, 'RUN', /^pnpm install --frozen-lockfile$/);
    expect(install).toBeGreaterThanOrEqual(0);
    // --frozen-lockfile needs every workspace manifest in place before the install.
    const copied = build.steps.slice(0, install).filter((s) => s.op === 'COPY').map((s) => s.args);
    for (const file of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml']) expect(copied.some((c) => c.split(' ').includes(file)), file).toBe(true);
    for (const pkg of readdirSync(join(repoRoot, 'packages'))) {
      expect(copied, `packages/${pkg}/package.json copied before the install`).toContain(`packages/${pkg}/package.json packages/${pkg}/`);
    }
  });

  it('copies the sources and runs `pnpm build`, which builds every package the compose file runs', () => {
    const sources = index(build.steps, 'COPY', /^\. \.$/);
    const pnpmBuild = index(build.steps, 'RUN', /^pnpm (run )?build$/);
    expect(sources).toBeGreaterThan(index(build.steps, 'RUN', /pnpm install/));
    expect(pnpmBuild).toBeGreaterThan(sources);
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    // `tsc -b` builds the project references; whatever script runs before it must be in the context.
    expect(scripts.build).toMatch(/(^|&& )tsc -b$/);
    for (const [, script] of scripts.build!.matchAll(/\bnode (\S+)/g)) expect(existsSync(join(repoRoot, script!)), script).toBe(true);
    const references = (JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8')) as { references: { path: string }[] }).references.map((r) => r.path);
    for (const service of composeFiles.flatMap(([, c]) => Object.values(c.services).filter(isOurs))) {
      for (const pkg of packagesRun(service)) {
        expect(references).toContain(`packages/${pkg}`);
        const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'packages', pkg, 'tsconfig.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
        expect(tsconfig.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' }); // src/main.ts → dist/main.js
      }
    }
  });

  it('does not keep the sources, manifests or protos out of the build context', () => {
    const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const toRegExp = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '(.*/)?')}(/.*)?$`);
    const needed = ['scripts/gen-proto.mjs', 'package.json', 'pnpm-lock.yaml', 'tsconfig.json', 'tsconfig.base.json', 'proto/meshauth/v1/sync.proto', 'packages/core/src/index.ts', 'packages/global-cp/src/main.ts', 'packages/zone-cp/package.json', 'packages/ctl/tsconfig.json'];
    for (const path of needed) {
      const excluding = patterns.filter((p) => !p.startsWith('!') && toRegExp(p).test(path));
      expect(excluding, `${path} is excluded`).toEqual([]);
    }
    for (const path of ['node_modules/x', 'packages/core/node_modules/x', 'packages/core/dist/index.js']) {
      expect(patterns.some((p) => toRegExp(p).test(path)), `${path} stays out`).toBe(true);
    }
  });

  it('runs from a runtime tree of production dependencies and built files, not from the build stage', () => {
    const runtime = stages.find((s) => s.name === 'runtime-tree');
    expect(runtime, 'a runtime-tree stage').toBeDefined();
    expect(runtime!.from).toBe(build.name);
    // The same manifests as the build, installed again without devDependencies, from the store the build filled.
    const manifests = runtime!.steps.findIndex((s) => s.op === 'RUN' && /^cd \/app && cp --parents package\.json pnpm-lock\.yaml pnpm-workspace\.yaml packages\/\*\/package\.json \S+\/$/.test(s.args));
    expect(manifests, 'every manifest and the lockfile copied from the build').toBeGreaterThan(-1);
    expect(index(runtime!.steps, 'RUN', /^pnpm install --frozen-lockfile --prod --offline$/)).toBeGreaterThan(manifests);
    const copy = runtime!.steps.find((s) => s.op === 'RUN' && s.args.includes('cp -R --parents'));
    for (const part of ['packages/*/dist', 'packages/*/bin', 'packages/core/gui', 'proto']) expect(copy?.args.split(' '), part).toContain(part);
    const workdir = runtime!.steps.filter((s) => s.op === 'WORKDIR').map((s) => s.args).at(-1);
    expect(copy!.args).toMatch(new RegExp(`^cd /app && cp -R --parents .* ${workdir}/$`));
    expect(final.steps.filter((s) => s.op === 'WORKDIR').map((s) => s.args).at(-1)).toBe('/app');
    expect(final.steps.filter((s) => s.op === 'COPY').map((s) => s.args)).toEqual([`--from=runtime-tree ${workdir} /app`]);
    // The volume mount points exist and belong to the user the planes run as.
    const user = final.steps.filter((s) => s.op === 'USER').map((s) => s.args).at(-1);
    expect(user).toBe('node');
    const mounts = new Set(composeFiles.flatMap(([, c]) => Object.values(c.services).filter(isOurs)).flatMap((s) => (s.volumes ?? []).map((v) => v.split(':')[1]!)));
    for (const dir of mounts) expect(index(final.steps, 'RUN', new RegExp(`chown node:node .*${dir}\\b`)), `${dir} owned by node`).toBeGreaterThanOrEqual(0);
  });
});

describe('the zone-tokens one-shot script', () => {
  let dir: { path: string; remove(): void } | undefined;
  afterAll(async () => {
    await stopAll();
    dir?.remove();
  });

  let global: Awaited<ReturnType<typeof startDaemon>> | undefined;
  const globalForScripts = async () => {
    if (!global) {
      dir = tempDir('meshauth-compose-');
      global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') });
    }
    return { global, folder: dir!.path };
  };

  it("passes each daemon's healthcheck, as compose runs it, against a real global and a real zone once synced (and not before)", async () => {
    const { global: target, folder } = await globalForScripts();
    const probes = composeFiles.flatMap(([file, c]) =>
      Object.entries(c.services).flatMap(([name, s]) => (isOurs(s) && daemonOf(s) && s.healthcheck ? [{ file, name, kind: daemonOf(s)!, probe: s.healthcheck.test }] : [])),
    );
    const runProbe = async (probe: string[], diagnosticsPort: number) => {
      const args = probe.slice(2).map((a) => a.replace(/^http:\/\/127\.0\.0\.1:5680\//, `http://127.0.0.1:${diagnosticsPort}/`));
      return promisify(execFile)(probe[1]!, args).then(
        () => 0,
        (error: { code?: number }) => error.code ?? 1,
      );
    };
    const token = await fetch(`${target.url}/tokens/zone`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ zone: 'zone-1', scope: ['cp'], validFor: '1h' }) });
    expect(token.status).toBe(200);
    const tokenFile = join(folder, 'probe-zone.token');
    writeFileSync(tokenFile, await token.text(), { mode: 0o600 });
    const zoneEnv = (address: string) => ({
      MESHAUTH_STORE_SQLITE_PATH: join(folder, `probe-zone-${address.length}.db`),
      MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1',
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS: address,
      MESHAUTH_MULTIZONE_ZONE_GLOBAL_TOKEN_FILE: tokenFile,
      MESHAUTH_MULTIZONE_ZONE_SYNC_USER_TOKEN_KEYS: 'public',
    });
    // A zone whose global is not there: started, but not ready, so compose would hold its dependants.
    const unreachable = await startDaemon('zone-cp', zoneEnv('grpc://127.0.0.1:1'));
    const zone = await startDaemon('zone-cp', zoneEnv(`grpc://127.0.0.1:${target.ready.syncPort as number}`));
    await zone.waitForLog((l) => l.msg === 'sync: connected to global');
    await waitFor('the zone to be ready', async () => (await fetch(`http://127.0.0.1:${zone.ready.diagnosticsPort as number}/ready`)).ok);
    expect(probes.length).toBe(7); // global, zone-1, zone-2; global-1, global-2, zone-1a, zone-1b
    for (const { file, name, kind, probe } of probes) {
      const daemon = kind === 'global-cp' ? target : zone;
      expect(await runProbe(probe, daemon.ready.diagnosticsPort as number), `${file} ${name}`).toBe(0);
      if (kind === 'zone-cp') expect(await runProbe(probe, unreachable.ready.diagnosticsPort as number), `${file} ${name} before any sync`).not.toBe(0);
    }
    await unreachable.stop();
    await zone.stop();
  }, 120_000);

  for (const [file, { services: all }] of composeFiles) {
    it(`writes a cp-scoped zone token per zone when run against a real global-cp (${file})`, async () => {
      const { global: target, folder: base } = await globalForScripts();
      const folder = join(base, file);
      mkdirSync(folder);
      const oneShot = all['zone-tokens']!;
      // The same script, pointed at this global and this folder; `$$` is compose's escape for `$`.
      const script = (oneShot.command as string[])[0]!
        .replaceAll('$$', '$')
        .replaceAll('http://127.0.0.1:5681', target.url)
        .replaceAll('/tokens/', `${folder}/`)
        .replaceAll('node packages/', `node ${repoRoot}packages/`);
      const entrypoint = oneShot.entrypoint as string[];
      expect(entrypoint).toEqual(['/bin/sh', '-ec']);
      const run = await promisify(execFile)('/bin/sh', ['-ec', script], { env: { PATH: process.env.PATH ?? '', HOME: folder } });
      const zones = zonesOfTokenScript(oneShot);
      expect(zones).toEqual(file === 'docker-compose.yml' ? ['zone-1', 'zone-2'] : ['zone-1']);
      expect(run.stdout).toContain(`zone token for ${zones.at(-1)} written`);
      for (const zone of zones) {
        const token = readFileSync(join(folder, `${zone}.token`), 'utf8').trim();
        const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { Zone: string; Scope: string[] };
        expect(payload).toMatchObject({ Zone: zone, Scope: ['cp'] });
      }
    });
  }
});
