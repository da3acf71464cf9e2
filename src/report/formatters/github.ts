// GitHub Actions workflow commands: each problem becomes an annotation on the file and line.
import type { FileReport } from '../problem.ts';

// Workflow command values escape %, CR and LF; property values also escape : and ,.
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

export const github = (reports: readonly FileReport[]): string =>
  reports
    .flatMap((r) =>
      r.problems.map((p) => {
        const props = [`file=${escapeProperty(r.file)}`];
        if (p.line > 0) props.push(`line=${p.line}`, `col=${p.column}`);
        if (p.endLine) props.push(`endLine=${p.endLine}`);
        if (p.endColumn && p.endLine === p.line) props.push(`endColumn=${p.endColumn}`);
        props.push(`title=${escapeProperty(`startvm ${p.ruleId}`)}`);
        return `::${p.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeData(p.message)}\n`;
      }),
    )
    .join('');
