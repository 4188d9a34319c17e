/**
 * README.md stays true: its configuration table is the configuration the code has, and every
 * meshctl command it shows is a real command with real options.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { envNameOf, knownEnvNames, settingPaths } from '@meshauth/core';
import { binaries, repoRoot } from './support/daemon.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `section "## ${title}"`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** A default as the table shows it: lists comma-separated (their env form), empty as `""`. */
function shown(value: unknown): string {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text === '' ? '""' : text;
}

/** Code-block lines with `\` continuations joined. */
function codeLines(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ''));
  return blocks.flatMap((b) => b.split('\n'));
}

describe('README.md', () => {
  it('gives a new user the two commands', () => {
    expect(readme).toContain('npm i -g pnpm@10.34.9 && pnpm install && pnpm demo\npnpm test\n');
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string };
    expect(manifest.packageManager).toBe('pnpm@10.34.9');
  });

  it('lists every setting with its env name and default, and nothing else', () => {
    const rows = [...section('Configuration').matchAll(/^\| `(MESHAUTH_[A-Z_]+)` \| `([^`]*)` \| (.+) \|$/gm)];
    const table = new Map(rows.map((r) => [r[1]!, r[2]!]));
    expect(rows.length, 'each setting once').toBe(table.size);
    expect([...table.keys()].sort()).toEqual(knownEnvNames().sort());
    for (const [path, value] of settingPaths()) expect(table.get(envNameOf(path)), envNameOf(path)).toBe(shown(value));
  });

  it('shows only meshctl commands and options that exist', async () => {
    const run = promisify(execFile);
    const invocations = codeLines()
      .flatMap((line) => line.split(/\||\$\(|&&/))
      .map((part) => part.trim())
      .filter((part) => part.startsWith('meshctl '))
      .map((part) => part.split(/\s+/).slice(1));
    expect(invocations.length).toBeGreaterThan(15);
    const helpCache = new Map<string, string>();
    for (const words of invocations) {
      const firstOption = words.findIndex((w) => w.startsWith('-') && w !== '-');
      const positional = firstOption === -1 ? words : words.slice(0, firstOption);
      const key = positional.join(' ');
      if (!helpCache.has(key)) {
        const { stdout } = await run(process.execPath, [binaries.meshctl, ...positional, '--help']);
        helpCache.set(key, stdout);
      }
      const help = helpCache.get(key)!;
      // "Usage: meshctl delete global-secret [options] <name>": the command path, then its arguments.
      const usage = /^Usage: meshctl (.*)$/m.exec(help)![1]!.split(' ');
      const path = usage.filter((w) => /^[a-z][\w-]*$/.test(w));
      const placeholders = usage.filter((w) => /^[<[]/.test(w) && !['[options]', '[command]'].includes(w));
      expect(positional.slice(0, path.length), `meshctl ${words.join(' ')}`).toEqual(path);
      expect(positional.length - path.length, `arguments of meshctl ${path.join(' ')}`).toBeLessThanOrEqual(placeholders.length);
      for (const option of words.filter((w) => /^--?[a-z]/.test(w)).map((w) => w.split('=')[0]!)) {
        expect(help, `meshctl ${path.join(' ')} ${option}`).toMatch(new RegExp(`(^|[\\s,])${option}\\b`));
      }
    }
  });

  it('has a diagram, the sync modes and a Performance section', () => {
    expect(section('How it fits together')).toMatch(/global-cp[\s\S]*zone-1[\s\S]*zone-2/);
    const sync = section('Sync instead of the manual copy: what `public` and `private` mean');
    for (const mode of ['`off`', '`public`', '`private`']) expect(sync).toContain(`| ${mode}`);
    section('Performance');
  });

  it('shows the status page with a screenshot that is in the repository', () => {
    const gui = section('Status page');
    const image = /!\[[^\]]+\]\((docs\/[\w-]+\.png)\)/.exec(gui);
    expect(image, 'a screenshot').not.toBeNull();
    expect(readFileSync(join(repoRoot, image![1]!)).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
