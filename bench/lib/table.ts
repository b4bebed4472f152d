export type Cell = string | number | undefined;

/** Formats a number for a table: NaN and undefined as "–", otherwise `digits` decimals. */
export function fmt(value: number | undefined, digits = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtRatio = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '–' : `${fmt(value, 2)}x`);

/** A GitHub-flavoured Markdown table: readable on a terminal and pasteable into BENCHMARKS.md as it is. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^[-–0-9.,x%]+\s*\w*$/.test(cellText(r[i]))));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...text.map(line)].join('\n');
}

function cellText(cell: Cell): string {
  if (cell === undefined) return '–';
  if (typeof cell === 'number') return fmt(cell, Number.isInteger(cell) ? 0 : 1);
  return cell;
}

export function printSection(title: string, body: string): void {
  process.stdout.write(`\n### ${title}\n\n${body}\n`);
}
