import type { Command } from 'commander';
import type { ApiClient } from '../api-client.js';
import { openSession } from '../control-plane-client.js';
import { SilentFailure, TokenError } from '../errors.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { decodeJwt } from '../jwt-decode.js';
import { outputOption, render, type OutputFormat } from '../output.js';
import { apiErrorFrom } from '../problem.js';
import { registerInspectSyncCommand } from './inspect-sync.js';
import { renderTokenInspection } from '../token-inspection.js';
import { verifyToken, type Jwks, type ServerAnswer, type VerificationResult } from '../token-verification.js';

/** One item of global's `GET /zones` (the fields meshctl shows; -o json|yaml prints them all). */
interface ZoneStatus {
  zone: string;
  connected: boolean;
  mode: 'off' | 'public' | 'private';
  ackedVersion: number;
  versionsBehind: number;
  /** How long the oldest change the zone has not acked has waited; 0 when caught up. */
  lagMs: number;
  lastAckAt: string | null;
  lastError: string | null;
}

export function registerInspectCommands(program: Command, io: CliIo): void {
  const inspect = program.command('inspect').description('inspect tokens, zones and a zone\'s sync');
  withExamples(inspect, 'meshctl generate user-token --name=john --group=team-a --valid-for=24h | meshctl inspect token -');

  const token = inspect
    .command('token')
    .description('decode a token; with --verify, check it against the active control plane')
    .argument('<token>', 'the token, or - to read it from stdin')
    .option('--verify', "check the signature against the control plane's JWKS and ask it whether it accepts the token")
    .addOption(outputOption())
    .action(async (arg: string, opts: { verify?: boolean; output: OutputFormat }, cmd: Command) => {
      const raw = (arg === '-' ? await io.readStdin() : arg).trim();
      // Typically `meshctl generate … | meshctl inspect token -` where generate failed (and said why).
      if (raw === '') throw new TokenError(arg === '-' ? 'no token on stdin' : 'the token is empty');
      const decoded = decodeJwt(raw);
      const verification = opts.verify === true ? await verifyAgainstControlPlane(cmd, io, raw) : undefined;
      if (opts.output === 'table') {
        io.stdout(renderTokenInspection(decoded, { now: io.now() }));
        if (verification !== undefined) io.stdout(verificationLine(verification));
      } else {
        const { header, payload, signature } = decoded;
        const data = verification === undefined ? { header, payload, signature } : { header, payload, signature, verification };
        io.stdout(render(opts.output, { data, rows: [], columns: [] }));
      }
      if (verification !== undefined && verification.verdict !== 'valid') {
        throw new SilentFailure(`token is ${verification.verdict}`);
      }
    });
  withExamples(
    token,
    'meshctl generate user-token --name=john --group=team-a --valid-for=24h | meshctl inspect token -',
    'meshctl inspect token --verify eyJhbGciOiJSUzI1NiIsImtpZCI6IjEiLCJ0eXAiOiJKV1QifQ...',
  );

  const zones = inspect
    .command('zones')
    .description('show each zone and how far behind global it is (global only)')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const data = await client.json<{ items: ZoneStatus[] }>('GET', '/zones');
      io.stdout(
        render(opts.output, {
          data,
          rows: data.items,
          columns: [
            { header: 'zone', value: (z) => z.zone },
            { header: 'connected', value: (z) => (z.connected ? 'yes' : 'no') },
            { header: 'mode', value: (z) => z.mode },
            { header: 'acked version', value: (z) => String(z.ackedVersion) },
            { header: 'behind', value: (z) => String(z.versionsBehind) },
            { header: 'lag', value: (z) => `${z.lagMs}ms` },
            { header: 'last ack', value: (z) => z.lastAckAt ?? '-' },
            { header: 'last error', value: (z) => z.lastError ?? '-' },
          ],
        }),
      );
    });
  withExamples(zones, 'meshctl inspect zones', 'meshctl inspect zones -o json');
  registerInspectSyncCommand(inspect, io);
}

async function verifyAgainstControlPlane(cmd: Command, io: CliIo, raw: string): Promise<VerificationResult> {
  const { client } = await openSession(cmd, io);
  return verifyToken(decodeJwt(raw), raw, {
    fetchJwks: () => client.json<Jwks>('GET', '/.well-known/jwks.json', { token: null }),
    askServer: (token) => askServer(client, token),
    now: () => io.now(),
  });
}

/** `GET /who-am-i` with the token under test instead of meshctl's own. */
async function askServer(client: ApiClient, token: string): Promise<ServerAnswer> {
  const res = await client.request('GET', '/who-am-i', { token });
  if (res.status >= 200 && res.status <= 299) return { accepted: true };
  const error = apiErrorFrom(res.status, res.contentType, res.body);
  if (res.status !== 401) throw error;
  return { accepted: false, detail: error.problem?.detail ?? error.problem?.title ?? error.message };
}

function verificationLine(result: VerificationResult): string {
  const detail = result.detail === undefined ? '' : ` (${result.detail})`;
  return `Verification: ${result.verdict}${detail}\n`;
}
