// Section 4, validation: loading and checking profiles/default.yaml inside the process, with
// checkProfile from src/profile/check.ts (run from source by type stripping, as the tests do; the
// bundle runs the same code). Measured in a fresh child process: bench/validation-child.ts.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NODE } from './handover.ts';
import { summarize, type Summary } from './stats.ts';

export interface ValidationResult {
  importCheckMs: number;
  importStagesMs: number;
  firstCallMs: number;
  warm: Summary;
  warmup: number;
  allValid: boolean;
  /** Checks per second at the warm median. */
  perSecond: number;
}

const child = fileURLToPath(new URL('validation-child.ts', import.meta.url));

export function measureValidation(warmup: number, iterations: number): ValidationResult {
  const out = execFileSync(NODE, [child, String(warmup), String(iterations)], { encoding: 'utf8' });
  const r = JSON.parse(out) as { importCheckMs: number; importStagesMs: number; firstCallMs: number; samples: number[]; allValid: boolean };
  const warm = summarize(r.samples);
  return { importCheckMs: r.importCheckMs, importStagesMs: r.importStagesMs, firstCallMs: r.firstCallMs, warm, warmup, allValid: r.allValid, perSecond: 1000 / warm.median };
}
