import { describe, expect, it } from 'vitest';
import { render, renderTable } from './output.js';

const rows = [
  { name: 'admin-user-token', type: 'GlobalSecret' },
  { name: 'user-token-signing-key-1', type: 'GlobalSecret' },
];
const columns = [
  { header: 'name', value: (r: (typeof rows)[number]) => r.name },
  { header: 'type', value: (r: (typeof rows)[number]) => r.type },
];

describe('output', () => {
  it('renders an aligned table with upper-case headers', () => {
    expect(renderTable(columns, rows)).toBe(
      'NAME                       TYPE\n' +
        'admin-user-token           GlobalSecret\n' +
        'user-token-signing-key-1   GlobalSecret\n',
    );
  });

  it('keeps every row on one line', () => {
    expect(renderTable([{ header: 'e', value: (r: string) => r }], ['a\nb'])).toBe('E\na b\n');
  });

  it('prints only headers for no rows', () => {
    expect(renderTable(columns, [])).toBe('NAME   TYPE\n');
  });

  it('renders json and yaml from the data, not the table', () => {
    const data = { total: 2, items: rows };
    expect(JSON.parse(render('json', { data, rows, columns }))).toEqual(data);
    expect(render('json', { data, rows, columns })).toMatch(/^{\n {2}"total": 2,/);
    expect(render('yaml', { data, rows, columns })).toBe(
      'total: 2\nitems:\n  - name: admin-user-token\n    type: GlobalSecret\n  - name: user-token-signing-key-1\n    type: GlobalSecret\n',
    );
  });
});
