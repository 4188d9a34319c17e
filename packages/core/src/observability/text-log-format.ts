/**
 * MESHAUTH_LOG_FORMAT=text: each pino JSON line rewritten as one line for people, in the process
 * (no worker thread, no pino-pretty):
 *
 *   2026-12-01T12:00:00.000Z INFO  global-cp: global-cp ready httpPort=5681 store="/data/global.db"
 *
 * Fields keep pino's names; strings with spaces or quotes, and objects, are JSON. An error's stack
 * follows on indented lines, the only case of more than one line.
 */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

function shown(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function formatLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString() : '';
  const level = (LEVELS[entry.level as number] ?? String(entry.level)).padEnd(5);
  const fields: string[] = [];
  let stack = '';
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key)) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { type?: string; message?: string; stack?: string };
      fields.push(`err=${shown(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
      if (err.stack) stack = err.stack.split('\n').slice(1).map((l) => `    ${l.trim()}`).join('\n');
      continue;
    }
    fields.push(`${key}=${shown(value)}`);
  }
  const head = [time, level, `${String(entry.name ?? '')}:`, String(entry.msg ?? '')].filter(Boolean).join(' ');
  return `${[head, ...fields].join(' ')}\n${stack ? `${stack}\n` : ''}`;
}

/** A pino destination that writes each line to `out` in the text format. */
export function textDestination(out: { write(text: string): unknown } = process.stdout): { write(line: string): void } {
  return {
    write(line: string) {
      out.write(formatLogLine(line.endsWith('\n') ? line.slice(0, -1) : line));
    },
  };
}
