// Plain-text tables for the report: a title, a header row and rows, columns padded to fit.
export type Row = string[];

export function table(title: string, header: Row, rows: readonly Row[], notes: readonly string[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: Row) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [title, '='.repeat(title.length), line(header), rule, ...rows.map(line), ...notes.map((n) => `  ${n}`), ''].join('\n');
}

export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
