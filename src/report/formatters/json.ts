// Machine-readable lint output: one object per file, ESLint-like fields.
import type { FileReport } from '../problem.ts';

export const json = (reports: readonly FileReport[]): string =>
  `${JSON.stringify(reports.map((r) => ({ filePath: r.file, errorCount: r.problems.filter((p) => p.severity === 'error').length, warningCount: r.problems.filter((p) => p.severity === 'warning').length, messages: r.problems })), null, 2)}\n`;
