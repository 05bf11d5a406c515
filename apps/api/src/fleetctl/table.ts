/** One column of a table: its header and how a row fills it. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Numbers read best right-aligned. @defaultValue 'left' */
  align?: 'left' | 'right';
  /** Longer cells are cut with `…`. @defaultValue no limit */
  maxWidth?: number;
}

/** Display width of a cell: code points, so a `…` or an accented letter counts as one. */
const widthOf = (text: string) => [...text].length;

function cell(value: string | number | null | undefined, maxWidth?: number): string {
  const text =
    value === null || value === undefined || value === '' ? '-' : String(value).replace(/\s+/g, ' ');
  if (maxWidth === undefined || widthOf(text) <= maxWidth) return text;
  return `${[...text].slice(0, Math.max(maxWidth - 1, 1)).join('')}…`;
}

/**
 * Rows as an aligned plain-text table, columns two spaces apart, no trailing spaces: what a
 * terminal shows and `grep`/`awk` still read. Empty values print as `-` so columns never collapse.
 */
export function formatTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(widthOf(c.header), ...cells.map((r) => widthOf(r[i]!))));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const pad = ' '.repeat(widths[i]! - widthOf(value));
        return columns[i]!.align === 'right' ? pad + value : value + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `name: value` lines with the names padded to one width. */
export function formatFields(
  fields: ReadonlyArray<readonly [string, string | number | null | undefined]>,
): string {
  const width = Math.max(...fields.map(([name]) => widthOf(name)));
  return (
    fields
      .map(([name, value]) => `${name}:${' '.repeat(width - widthOf(name) + 1)}${cell(value)}`)
      .join('\n') + '\n'
  );
}

/** An ISO time as `2026-12-07 15:42:25` (UTC, to the second), the way logs and Kafka tools show it. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').slice(0, 19);
}
