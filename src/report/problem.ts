// One problem found in a profile, in the shape ESLint uses so formatters stay pure functions.

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** Which check found it: yaml-syntax, schema, unknown-key, stage-order, env, template, ... */
  ruleId: string;
  message: string;
  /** Path in the document, dotted (vm.cpus, stages.3.options). Empty for the whole file. */
  path: string;
  /** 1-based; 0 when the problem has no position in the file (e.g. a value that came from an env variable not present in the file). */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export interface FileReport {
  file: string;
  problems: Problem[];
}

export const errorCount = (reports: FileReport[]): number =>
  reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === 'error').length, 0);

export const warningCount = (reports: FileReport[]): number =>
  reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === 'warning').length, 0);
