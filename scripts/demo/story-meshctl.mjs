import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoZones } from './topology.mjs';

/** Runs the built meshctl with the demo's own config file; resolves with exit code and output. */
function meshctl(demo, args) {
  const script = join(demo.repoRoot, 'packages', 'ctl', 'dist', 'main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing; run \`pnpm build\` first (\`pnpm demo\` does)`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', MESHCTL_CONFIG: demo.meshctlConfig }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function expectSuccess(demo, args, shown) {
  const result = await meshctl(demo, args);
  if (result.code !== 0) throw new Error(`\`meshctl ${shown}\` exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
  return result;
}

/** What an operator sees: every zone, its mode and how far behind global it is. */
export function addMeshctlSteps(runner, demo) {
  runner.add('Show `meshctl inspect zones` against global', async (say) => {
    const address = demo.topology.url('global');
    const add = ['config', 'control-planes', 'add', '--name', 'global', '--address', address, '--auth-type', 'tokens', '--auth-conf', `token=${demo.adminToken}`];
    say(`$ export MESHCTL_CONFIG=${demo.meshctlConfig}`);
    say(`$ meshctl config control-planes add --name global --address ${address} --auth-type tokens --auth-conf token=$ADMIN_TOKEN`);
    say((await expectSuccess(demo, add, 'config control-planes add')).stdout.trimEnd());
    say('$ meshctl inspect zones');
    const inspected = await expectSuccess(demo, ['inspect', 'zones'], 'inspect zones');
    say(inspected.stdout.trimEnd());
    const rows = inspected.stdout.split('\n');
    for (const zone of demoZones) {
      const row = rows.find((line) => line.trim().startsWith(zone.name));
      if (!row || !row.includes(zone.asks) || !/\byes\b/.test(row)) throw new Error(`meshctl inspect zones does not show ${zone.name} connected in ${zone.asks} mode`);
    }
  });
}
