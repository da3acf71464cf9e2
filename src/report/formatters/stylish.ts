// Human-readable lint output, grouped by file (ESLint's stylish).
import type { FileReport } from '../problem.ts';
import { errorCount, warningCount } from '../problem.ts';

export function stylish(reports: readonly FileReport[], color = false): string {
  const paint = (code: string, text: string): string => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const out: string[] = [];
  for (const report of reports) {
    if (report.problems.length === 0) continue;
    out.push(paint('4', report.file));
    for (const p of report.problems) {
      const where = p.line > 0 ? `${p.line}:${p.column}` : p.ruleId === 'env' ? 'env' : '-';
      const severity = p.severity === 'error' ? paint('31', 'error') : paint('33', 'warning');
      out.push(`  ${where.padEnd(7)} ${severity}  ${p.message}  ${paint('2', p.ruleId)}`);
    }
    out.push('');
  }
  const errors = errorCount([...reports]);
  const warnings = warningCount([...reports]);
  if (errors + warnings > 0) out.push(`${errors + warnings} problem${errors + warnings === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})`);
  return out.length ? `${out.join('\n')}\n` : '';
}
