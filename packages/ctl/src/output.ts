import { Option } from 'commander';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o, --output table|json|yaml`, added to every read command. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table');
}

export interface Column<T> {
  header: string;
  value(row: T): string;
}

/** What a read command shows: `data` for json/yaml, `rows` through `columns` as a table. */
export interface View<T> {
  data: unknown;
  rows: readonly T[];
  columns: ReadonlyArray<Column<T>>;
}

export function render<T>(format: OutputFormat, view: View<T>): string {
  if (format === 'json') return `${JSON.stringify(view.data, null, 2)}\n`;
  if (format === 'yaml') return stringify(view.data);
  return renderTable(view.columns, view.rows);
}

/** Columns padded to their widest cell, separated by three spaces, like kumactl's tables. */
export function renderTable<T>(columns: ReadonlyArray<Column<T>>, rows: readonly T[]): string {
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((row) => columns.map((c) => cell(c.value(row)))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((text, i) => text.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** A cell stays on one line so columns stay aligned. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
