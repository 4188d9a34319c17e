import type { Command } from 'commander';
import { openSession } from '../control-plane-client.js';
import { withExamples } from '../help-examples.js';
import type { CliIo } from '../io.js';
import { outputOption, render, type OutputFormat } from '../output.js';

/** A zone's `GET /sync/status` (the fields meshctl shows; -o json|yaml prints them all). */
interface SyncStatus {
  zone: string;
  state: string;
  mode: string;
  effectiveMode?: string | null;
  globalAddress: string | null;
  appliedVersion?: number;
  globalVersion?: number | null;
  lastContactAt?: string | null;
  lastError?: string | null;
  leader: boolean;
  stats?: { snapshots: number; deltas: number; nacks: number };
}

/** `meshctl inspect sync`: a zone's own view of its stream to global (zones only; global lists zones). */
export function registerInspectSyncCommand(inspect: Command, io: CliIo): void {
  const sync = inspect
    .command('sync')
    .description("show this zone's sync with global: state, mode, versions, last contact (zone only; on global use inspect zones)")
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      const { client } = await openSession(cmd, io);
      const data = await client.json<SyncStatus>('GET', '/sync/status');
      const dash = (value: unknown) => (value === null || value === undefined || value === '' ? '-' : String(value));
      io.stdout(
        render(opts.output, {
          data,
          rows: [data],
          columns: [
            { header: 'zone', value: (s) => s.zone },
            { header: 'state', value: (s) => s.state },
            { header: 'mode', value: (s) => (s.effectiveMode && s.effectiveMode !== s.mode ? `${s.mode} (effective ${s.effectiveMode})` : s.mode) },
            { header: 'global', value: (s) => dash(s.globalAddress) },
            { header: 'applied version', value: (s) => dash(s.appliedVersion) },
            { header: 'global version', value: (s) => dash(s.globalVersion) },
            { header: 'last contact', value: (s) => dash(s.lastContactAt) },
            { header: 'leader', value: (s) => (s.leader ? 'yes' : 'no') },
            { header: 'last error', value: (s) => dash(s.lastError) },
          ],
        }),
      );
    });
  withExamples(sync, 'meshctl inspect sync', 'meshctl inspect sync -o json');
}
