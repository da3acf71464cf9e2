// SARIF 2.1.0, for code-scanning dashboards.
import type { FileReport } from '../problem.ts';

export function sarif(reports: readonly FileReport[], version: string): string {
  const rules = [...new Set(reports.flatMap((r) => r.problems.map((p) => p.ruleId)))].sort();
  const log = {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: { driver: { name: 'startvm', version, informationUri: 'https://github.com/startvm/startvm', rules: rules.map((id) => ({ id })) } },
        results: reports.flatMap((r) =>
          r.problems.map((p) => ({
            ruleId: p.ruleId,
            level: p.severity === 'error' ? 'error' : 'warning',
            message: { text: p.message },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: r.file },
                  ...(p.line > 0 ? { region: { startLine: p.line, startColumn: p.column, ...(p.endLine ? { endLine: p.endLine, endColumn: p.endColumn } : {}) } } : {}),
                },
              },
            ],
          })),
        ),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
