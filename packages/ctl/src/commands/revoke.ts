import { Option, type Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { UsageError } from '../errors.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';

interface SubjectRevocation {
  revoked: number;
  jtis: string[];
  warning?: string;
}

interface Revocation {
  jti: string;
  revokedAt: string;
  expiresAt: string | null;
}

export function registerRevokeCommands(program: Command, io: CliIo): void {
  const revoke = program.command('revoke').description('revoke credentials');
  withExamples(revoke, 'meshctl revoke user-token --jti bf3d0b2e-d840-4cb6-bf7c-b90f54391468');

  const revokeSubject = async (subject: { name: string } | { group: string }, cmd: Command) => {
    const given = Object.values(subject)[0]!;
    if (given === '') throw new UsageError('give a non-empty --name USER or --group GROUP');
    const { client } = await openSession(cmd, io);
    const result = await client.json<SubjectRevocation>('POST', '/tokens/user/revocations', { body: subject });
    const whose = 'name' in subject ? `user ${subject.name}` : `group ${subject.group}`;
    io.stdout(`revoked ${result.revoked} user token${result.revoked === 1 ? '' : 's'} of ${whose}\n`);
    if (result.warning) io.stderr(`warning: ${result.warning}\n`);
  };

  const userToken = revoke
    .command('user-token')
    .description('revoke a user token by its ID (jti) or by the token itself, or every token issued to a user or group')
    .addOption(new Option('--jti <id>', 'ID of the token (its "jti" claim)').conflicts(['token', 'name', 'group']))
    .addOption(new Option('--token <jwt>', 'the token itself, or - to read it from stdin').conflicts(['name', 'group']))
    .addOption(new Option('--name <name>', 'every unexpired token issued to this user').conflicts('group'))
    .addOption(new Option('--group <group>', 'every unexpired token naming this group'))
    .action(async (opts: { jti?: string; token?: string; name?: string; group?: string }, cmd: Command) => {
      if (opts.name !== undefined || opts.group !== undefined) return revokeSubject(opts.name !== undefined ? { name: opts.name } : { group: opts.group! }, cmd);
      if (opts.jti === undefined && opts.token === undefined) throw new UsageError('give --jti ID, --token JWT, --name USER or --group GROUP');
      const token = opts.token === '-' ? (await io.readStdin()).trim() : opts.token?.trim();
      if (opts.jti === '' || token === '') throw new UsageError(opts.token === '-' ? 'no token on stdin' : 'give a non-empty --jti ID or --token JWT');
      const body = opts.jti !== undefined ? { jti: opts.jti } : { token };
      const { client } = await openSession(cmd, io);
      const revocation = await client.json<Revocation>('POST', '/tokens/user/revocations', { body });
      const until = revocation.expiresAt === null ? '' : ` (it would have expired at ${revocation.expiresAt})`;
      io.stdout(`revoked user token ${revocation.jti}${until}\n`);
    });
  withExamples(
    userToken,
    'meshctl revoke user-token --jti bf3d0b2e-d840-4cb6-bf7c-b90f54391468',
    'meshctl revoke user-token --name john',
    'meshctl revoke user-token --group team-a',
    'meshctl revoke user-token --token eyJhbGciOiJSUzI1NiIsImtpZCI6IjEiLCJ0eXAiOiJKV1QifQ...',
  );
}
