import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { kidOf, rotateSigningKey, signingKeySecret } from '../signing-key-rotation.js';

export function registerRotateCommands(program: Command, io: CliIo): void {
  const rotate = program.command('rotate').description('rotate keys on the control plane');
  withExamples(rotate, 'meshctl rotate signing-key');

  const signingKey = rotate
    .command('signing-key')
    .description('create a new user-token signing key (global); with --remove-old also delete the older ones')
    .option('--remove-old', 'delete every older signing key now, invalidating all tokens they signed')
    .action(async (opts: { removeOld?: boolean }, cmd: Command) => {
      const { client, controlPlane, configPath } = await openSession(cmd, io);
      const ownToken = controlPlane.coordinates.apiServer.authConf?.token;
      const result = await rotateSigningKey(client, { removeOld: opts.removeOld === true, ownToken });
      const lines = [`created ${signingKeySecret(result.serial)}; new user tokens are signed by it`];
      if (opts.removeOld === true) {
        for (const serial of result.removed) lines.push(`removed ${signingKeySecret(serial)}`);
        if (result.removed.length === 0) lines.push('there were no older signing keys to remove');
        const ownKid = kidOf(ownToken);
        if (ownKid !== undefined && result.removed.includes(ownKid)) {
          lines.push(
            `warning: the token of control plane "${controlPlane.name}" in ${configPath} was signed by a removed key` +
              ' and no longer works; configure a token issued after this rotation',
          );
        }
      } else if (result.older.length > 0) {
        lines.push(
          'tokens signed by older keys stay valid until those keys are removed. Next:',
          '  1. regenerate user tokens: meshctl generate user-token --name … --group … --valid-for …',
          '     (and point meshctl at a new token: meshctl config control-planes add … --overwrite)',
          '  2. remove the old signing key(s):',
          ...result.older.map((s) => `     meshctl delete global-secret ${signingKeySecret(s)}`),
          'If the old key is compromised, run "meshctl rotate signing-key --remove-old" instead to rotate and remove at once.',
        );
      }
      io.stdout(`${lines.join('\n')}\n`);
    });
  withExamples(
    signingKey,
    '# 1. generate a new signing key (serial greater than the current one)\n' +
      'meshctl rotate signing-key\n' +
      '# 2. regenerate user tokens, signed by the new key from now on\n' +
      'meshctl generate user-token --name john --group team-a --valid-for 24h\n' +
      '# 3. remove the old signing key\n' +
      'meshctl delete global-secret user-token-signing-key-1',
    '# the key is compromised: rotate and invalidate every older token at once\n' +
      'meshctl rotate signing-key --remove-old',
  );
}
