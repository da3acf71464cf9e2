// Doctor's two outputs: aligned text lines for people, a JSON array for scripts.
import type { CheckResult, Status } from './checks.ts';

const COLOURS: Record<Status, string> = { ok: '32', warning: '33', error: '31' };

export function formatText(results: readonly CheckResult[], color = false): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map((r) => {
    // Pad before painting: escape codes would otherwise count towards the column width.
    const status = r.status.padEnd('warning'.length);
    const painted = color ? `\x1b[${COLOURS[r.status]}m${status}\x1b[0m` : status;
    return `${painted}  ${r.check.padEnd(width)}  ${r.detail}${r.fix ? `  fix: ${r.fix}` : ''}`;
  });
  return `${lines.join('\n')}\n`;
}

export const formatJson = (results: readonly CheckResult[]): string => `${JSON.stringify(results, null, 2)}\n`;
