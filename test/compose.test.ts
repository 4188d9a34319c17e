/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine: every command runs a
 * binary this repo builds, every environment name is a setting the binaries know (with a value
 * they accept), published ports are the ones the configuration listens on, and the Dockerfile
 * produces what the commands run. The one-shot `zone-tokens` script is run for real against a
 * real global-cp.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { knownEnvNames, loadConfig, type MeshAuthConfig } from '@meshauth/core';
import { repoRoot, startDaemon, stopAll, tempDir } from './support/daemon.js';

interface Service {
  build?: unknown;
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

const compose = parseYaml(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

/** bin name → [package folder, bin path], from each package's package.json. */
const binaries = new Map<string, [string, string]>();
for (const pkg of readdirSync(join(repoRoot, 'packages'))) {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', pkg, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  for (const [name, path] of Object.entries(manifest.bin ?? {})) binaries.set(name, [pkg, path]);
}

/** The whole command line of a service, entrypoint and command joined, as one shell-ish text. */
function commandText(service: Service): string {
  const part = (p: string | string[] | undefined) => (Array.isArray(p) ? p.join(' ') : (p ?? ''));
  return `${part(service.entrypoint)} ${part(service.command)}`;
}

/** The packages a service runs: `node packages/<pkg>/dist/main.js` or a bin name as a word. */
function packagesRun(service: Service): string[] {
  const text = commandText(service);
  const found = [...text.matchAll(/\bnode\s+(?:\.\/|\/app\/)?packages\/([\w-]+)\/dist\/main\.js\b/g)].map((m) => m[1]!);
  for (const [bin, [pkg]] of binaries) if (new RegExp(`(^|[\\s;&|(])${bin}(?=\\s|$)`).test(text)) found.push(pkg);
  return [...new Set(found)];
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

const daemonKinds = { 'global-cp': 'global', 'zone-cp': 'zone' } as const;

function daemonOf(service: Service): 'global-cp' | 'zone-cp' | undefined {
  return packagesRun(service).find((p): p is 'global-cp' | 'zone-cp' => p in daemonKinds);
}

/** The ports a daemon with this configuration listens on. */
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
    for (const [, path] of binaries.values()) expect(posix.normalize(path)).toBe('dist/main.js');
    for (const [name, service] of Object.entries(services)) {
      const pkgs = packagesRun(service);
      expect(pkgs.length, `${name} runs no meshauth binary: ${commandText(service)}`).toBeGreaterThan(0);
      for (const pkg of pkgs) {
        expect(existsSync(join(repoRoot, 'packages', pkg, 'src', 'main.ts')), `packages/${pkg}/src/main.ts`).toBe(true);
        expect(existsSync(join(repoRoot, 'packages', pkg, 'dist', 'main.js')), `packages/${pkg}/dist/main.js (after pnpm build)`).toBe(true);
      }
      // Nothing but the binaries this repo builds (and the shell around the one-shot script).
      const others = [...commandText(service).matchAll(/\bnode\s+(\S+)/g)].map((m) => m[1]!).filter((p) => !/^packages\/[\w-]+\/dist\/main\.js$/.test(p));
      expect(others, `${name} runs node on something else`).toEqual([]);
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

/** Dockerfile instructions with continuation lines joined, grouped by stage. */
function dockerfileStages(): { from: string; name?: string; steps: { op: string; args: string }[] }[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages: { from: string; name?: string; steps: { op: string; args: string }[] }[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(trimmed)!;
    if (op!.toUpperCase() === 'FROM') {
      const [, from, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args!)!;
      stages.push({ from: from!, ...(name ? { name } : {}), steps: [] });
    } else {
      stages.at(-1)!.steps.push({ op: op!.toUpperCase(), args: args!.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

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
    for (const stage of stages) expect(stage.from).toBe('node:20-bookworm-slim');
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
    for (const service of Object.values(services)) {
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

  it('runs from the built tree: the final stage copies /app from the build and works there', () => {
    const workdirs = final.steps.filter((s) => s.op === 'WORKDIR').map((s) => s.args);
    expect(workdirs.at(-1)).toBe('/app');
    expect(build.steps.filter((s) => s.op === 'WORKDIR').map((s) => s.args).at(-1)).toBe('/app');
    expect(index(final.steps, 'COPY', new RegExp(`^--from=${build.name} /app /app$`))).toBeGreaterThanOrEqual(0);
    // The volume mount points exist and belong to the user the planes run as.
    const user = final.steps.filter((s) => s.op === 'USER').map((s) => s.args).at(-1);
    expect(user).toBe('node');
    const mounts = new Set(Object.values(services).flatMap((s) => (s.volumes ?? []).map((v) => v.split(':')[1]!)));
    for (const dir of mounts) expect(index(final.steps, 'RUN', new RegExp(`chown node:node .*${dir}\\b`)), `${dir} owned by node`).toBeGreaterThanOrEqual(0);
  });
});

describe('the zone-tokens one-shot script', () => {
  let dir: { path: string; remove(): void } | undefined;
  afterAll(async () => {
    await stopAll();
    dir?.remove();
  });

  it('writes a cp-scoped zone token per zone when run against a real global-cp', async () => {
    const folder = tempDir('meshauth-compose-');
    dir = folder;
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(folder.path, 'global.db') });
    const oneShot = services['zone-tokens']!;
    // The same script, pointed at this global and this folder; `$$` is compose's escape for `$`.
    const script = (oneShot.command as string[])[0]!
      .replaceAll('$$', '$')
      .replaceAll('http://127.0.0.1:5681', global.url)
      .replaceAll('/tokens/', `${folder.path}/`)
      .replaceAll('node packages/', `node ${repoRoot}packages/`);
    const entrypoint = oneShot.entrypoint as string[];
    expect(entrypoint).toEqual(['/bin/sh', '-ec']);
    const run = await promisify(execFile)('/bin/sh', ['-ec', script], { env: { PATH: process.env.PATH ?? '', HOME: folder.path } });
    expect(run.stdout).toContain('zone token for zone-2 written');
    for (const zone of ['zone-1', 'zone-2']) {
      const token = readFileSync(join(folder.path, `${zone}.token`), 'utf8').trim();
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { Zone: string; Scope: string[] };
      expect(payload).toMatchObject({ Zone: zone, Scope: ['cp'] });
    }
  });
});
