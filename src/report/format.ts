// Formatters by name, as `lint --format` takes them.
import type { FileReport } from './problem.ts';
import { stylish } from './formatters/stylish.ts';
import { json } from './formatters/json.ts';
import { github } from './formatters/github.ts';
import { sarif } from './formatters/sarif.ts';

export const FORMATS = ['stylish', 'json', 'github', 'sarif'] as const;
export type FormatName = (typeof FORMATS)[number];

export function formatReports(name: FormatName, reports: readonly FileReport[], options: { color: boolean; version: string }): string {
  switch (name) {
    case 'stylish':
      return stylish(reports, options.color);
    case 'json':
      return json(reports);
    case 'github':
      return github(reports);
    case 'sarif':
      return sarif(reports, options.version);
  }
}
