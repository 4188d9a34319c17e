#!/usr/bin/env node
// `pnpm pack:meshctl [--out DIR]`: meshctl as an npm package of its own, for
// `npm i -g ./meshauth-meshctl-<version>.tgz` on a machine without this repository. Its one
// workspace dependency, @meshauth/core (of which meshctl uses only the TLS certificate
// generator), is bundled in with commander and yaml by esbuild; node-forge, which core loads on
// demand, stays a registry dependency. Prints the tarball's path.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const ctl = join(repoRoot, 'packages/ctl');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = resolve(outIndex === -1 ? join(repoRoot, 'dist-packages') : args[outIndex + 1] ?? '');
if (args.some((a, i) => a !== '--out' && i !== outIndex + 1)) {
  process.stderr.write('usage: pnpm pack:meshctl [--out DIR]\n');
  process.exit(2);
}

const manifest = JSON.parse(readFileSync(join(ctl, 'package.json'), 'utf8'));
const core = JSON.parse(readFileSync(join(repoRoot, 'packages/core/package.json'), 'utf8'));
/** Loaded at run time through createRequire (packages/core/src/tls/forge.ts), so not bundled. */
const external = ['node-forge'];

const stage = mkdtempSync(join(tmpdir(), 'meshctl-pack-'));
try {
  mkdirSync(join(stage, 'dist'));
  mkdirSync(join(stage, 'bin'));
  // The built CLI (`pnpm build` first), as one file: the same dist/main.js the shim imports.
  await build({
    entryPoints: [join(ctl, 'dist/main.js')],
    outfile: join(stage, 'dist/main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    // Bundled CommonJS (commander, yaml) calls require() for node's own modules.
    banner: { js: "import { createRequire as __meshctlCreateRequire } from 'node:module'; const require = __meshctlCreateRequire(import.meta.url);" },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(ctl, 'bin/meshctl.js'), join(stage, 'bin/meshctl.js'));
  chmodSync(join(stage, 'bin/meshctl.js'), 0o755);
  const packed = {
    name: '@meshauth/meshctl',
    version: manifest.version,
    description: "meshctl: the meshauth control planes' command-line client (kumactl's token, key and revocation commands)",
    type: 'module',
    bin: manifest.bin,
    files: ['bin', 'dist'],
    engines: JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).engines,
    dependencies: Object.fromEntries(external.map((name) => [name, core.dependencies[name]])),
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(packed, null, 2)}\n`);
  mkdirSync(outDir, { recursive: true });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8' }).trim().split('\n').at(-1);
  process.stdout.write(`${join(outDir, out)}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
