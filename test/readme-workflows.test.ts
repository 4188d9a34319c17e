import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { binaries, repoRoot, startDaemon, stopAll, tempDir, type Daemon } from './support/daemon.js';
import { http } from './support/http.js';
import { waitFor } from './support/wait-for.js';

/**
 * The README's workflow blocks, run as written against real daemons: every block marked
 * `<!-- workflow -->` (its meshctl paragraphs in one run, its curl paragraphs in the other) or
 * `<!-- workflow: both -->` (in both runs), in README order. Each run starts on fresh planes in a
 * folder of its own, so relative file names (zone-1.token, tls.crt) land there.
 *
 * Only ports are changed: `localhost:5681` becomes the port the test's global chose, and so on.
 * A `# start global-cp with K=V …` line stands for starting that plane: the test starts it (a
 * zone beside the running global, or a fresh global in place of it) with those settings, and the
 * following lines talk to it. Every other line runs in bash, with `set -e -o pipefail`, `meshctl`
 * the built binary, and curl failing on an HTTP error status (so a refused request fails the
 * line); variables a line assigns are carried to the next lines. curl and jq must be installed,
 * as the README says: without them the lines fail, naming the missing command.
 */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

interface Block {
  kind: 'split' | 'both';
  /** Paragraphs of logical lines (backslash continuations joined), comments kept. */
  paragraphs: string[][];
}

function workflowBlocks(): Block[] {
  return [...readme.matchAll(/<!-- workflow(: both)? -->\n```sh\n([\s\S]*?)```/g)].map((m) => ({
    kind: m[1] ? 'both' : 'split',
    paragraphs: m[2]!
      .replace(/\\\n\s*/g, ' ')
      .split(/\n\s*\n/)
      .map((p) => p.split('\n').filter((line) => line.trim() !== '')),
  }));
}

const mentionsMeshctl = (paragraph: string[]) => paragraph.some((line) => /(^|[\s($|])meshctl\s/.test(line));

function trackLines(track: 'meshctl' | 'curl'): string[] {
  return workflowBlocks().flatMap((block) =>
    block.kind === 'both' ? block.paragraphs.flat() : block.paragraphs.filter((p) => mentionsMeshctl(p) === (track === 'meshctl')).flat(),
  );
}

/** Names the README's lines assign (`NAME=…` or `export NAME=…`), carried from line to line. */
const assignedNames = [...new Set([...readme.matchAll(/^(?:export\s+)?([A-Z][A-Z0-9_]*)=\$\(/gm)].map((m) => m[1]!))];

const directive = /^#\s*start (global-cp|zone-cp) with (.+)$/;

function run(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd, timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: cwd, MESHCTL_CONFIG: join(cwd, 'meshctl.yaml') } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs one track's lines in order; returns every line with what it printed. */
async function runTrack(track: 'meshctl' | 'curl'): Promise<{ line: string; stdout: string }[]> {
  const dir = tempDir('meshauth-readme-');
  cleanups.push(() => dir.remove());
  const ports = new Map<number, number>();
  let global: Daemon;
  let stores = 0;
  const startGlobal = async (env: Record<string, string>) => {
    if (global) await global.stop();
    global = await startDaemon('global-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, `global-${stores++}.db`), ...env });
    ports.set(5681, global.httpPort).set(5682, global.ready.httpsPort as number).set(5685, global.ready.syncPort as number);
  };
  const startZone = async (env: Record<string, string>) => {
    const zone = await startDaemon('zone-cp', { MESHAUTH_STORE_SQLITE_PATH: join(dir.path, `zone-${stores++}.db`), ...env });
    ports.set(15681, zone.httpPort).set(15682, zone.ready.httpsPort as number).set(15678, zone.ready.dpServerPort as number);
    if (env.MESHAUTH_MULTIZONE_ZONE_GLOBAL_ADDRESS) {
      // What an operator waits for before the next step: the zone has applied global's keys.
      await waitFor('the zone to apply its first sync', async () => {
        const status = (await http('GET', `${zone.url}/sync/status`)).json;
        return status?.state === 'connected' && status.appliedVersion > 0;
      });
    }
  };
  const withPorts = (text: string) =>
    text.replace(/localhost:(\d+)/g, (whole, port: string) => {
      const chosen = ports.get(Number(port));
      expect(chosen, `no plane started for ${whole}`).toBeDefined();
      return `localhost:${chosen}`;
    });
  await startGlobal({});

  const prelude = [
    'set -e -o pipefail',
    `meshctl() { ${JSON.stringify(process.execPath)} ${JSON.stringify(binaries.meshctl)} "$@"; }`,
    'curl() { command curl --fail-with-body "$@"; }',
    'for tool in curl jq base64; do command -v "$tool" >/dev/null || { echo "$tool is not installed (the README needs it)" >&2; exit 127; }; done',
    '[ -f .vars ] && source .vars',
  ].join('\n');
  const carry = assignedNames.map((name) => `[ -n "\${${name}+x}" ] && printf 'export %s=%q\\n' ${name} "$${name}"`).join('\n');
  const outputs: { line: string; stdout: string }[] = [];
  for (const line of trackLines(track)) {
    const start = directive.exec(line);
    if (start) {
      const env = Object.fromEntries(
        start[2]!.trim().split(/\s+/).map((pair) => {
          const [key, value = ''] = pair.split(/=(.*)/s) as [string, string];
          const resolved = key.endsWith('_FILE') && !isAbsolute(value) ? join(dir.path, value) : withPorts(value);
          return [key, resolved];
        }),
      );
      await (start[1] === 'global-cp' ? startGlobal(env) : startZone(env));
      continue;
    }
    if (line.trimStart().startsWith('#')) continue;
    const command = withPorts(line);
    const result = await run(`${prelude}\n${command}\n{ ${carry.replace(/\n/g, '; ')}; true; } > .vars.next && mv .vars.next .vars`, dir.path);
    expect(result.code, `${track} line failed:\n  ${command}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
    outputs.push({ line, stdout: result.stdout });
  }
  return outputs;
}

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await stopAll();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("the README's workflows, run as written", () => {
  it('marks the workflow blocks; each split block has meshctl lines and curl lines', () => {
    const blocks = workflowBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(9);
    for (const block of blocks.filter((b) => b.kind === 'split')) {
      expect(block.paragraphs.some(mentionsMeshctl), block.paragraphs.flat().join('\n')).toBe(true);
      expect(block.paragraphs.some((p) => !mentionsMeshctl(p)), block.paragraphs.flat().join('\n')).toBe(true);
    }
    expect(assignedNames.sort()).toEqual(['ADMIN_TOKEN', 'DP_TOKEN', 'JOHN_TOKEN']);
  });

  it('every file a workflow line uses is written by a line before it', () => {
    for (const track of ['meshctl', 'curl'] as const) {
      const written = new Set<string>();
      for (const line of trackLines(track)) {
        const files = [...line.matchAll(/([\w-]+\.(?:token|crt|key))\b/g)].map((m) => m[1]!);
        const redirected = /> *([\w.-]+)\s*$/.exec(line)?.[1];
        if (/generate tls-certificate/.test(line)) for (const file of files) written.add(file);
        else if (redirected) written.add(redirected);
        else for (const file of files) expect(written.has(file), `${track}: ${file} is used before a line makes it:\n  ${line}`).toBe(true);
      }
      expect(written.size, track).toBeGreaterThan(0);
    }
  });

  it('the meshctl lines, in order, on fresh planes', async () => {
    const outputs = await runTrack('meshctl');
    const out = (pattern: RegExp) => outputs.filter((o) => pattern.test(o.line)).map((o) => o.stdout);
    expect(out(/inspect token --verify/)[0]).toMatch(/Verification: valid\n$/);
    expect(out(/generate dataplane-token/)[0]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(out(/inspect zones/)[0]).toMatch(/\nzone-1\s+yes\s+public\s/);
    expect(out(/inspect sync/)[0]).toMatch(/\nzone-1\s+connected\s+public\s/);
    expect(out(/who-am-i/).at(-1)).toMatch(/mesh-system:admin/);
  });

  it('the curl lines, in order, on fresh planes', async () => {
    const outputs = await runTrack('curl');
    const out = (pattern: RegExp) => outputs.filter((o) => pattern.test(o.line)).map((o) => o.stdout);
    expect(JSON.parse(out(/localhost:5681\/who-am-i/)[0]!)).toMatchObject({ name: 'john' });
    expect(JSON.parse(out(/\/bootstrap/)[0]!)).toMatchObject({ name: 'dp-1', mesh: 'default' });
    expect(JSON.parse(out(/\/zones/)[0]!).items).toEqual([expect.objectContaining({ zone: 'zone-1', connected: true })]);
    expect(JSON.parse(out(/\/sync\/status/)[0]!)).toMatchObject({ zone: 'zone-1', state: 'connected' });
    expect(JSON.parse(out(/https:\/\/localhost:5682\/who-am-i/)[0]!)).toMatchObject({ name: 'mesh-system:admin' });
  });
});
