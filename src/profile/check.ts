// Profile text in, validated profile or problems out. The one code path shared by run, plan and lint
// (a start whose profile the trained cache knows tries check-text.ts's shortcut first).
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { Problem } from '../report/problem.ts';
import type { Profile } from './types.ts';
import type { EnvOrigins } from './env.ts';
import { NO_SPAN } from './positions.ts';
import { locate } from './locate.ts';
import { checkData, type CheckOptions } from './check-data.ts';

export type { CheckOptions } from './check-data.ts';

export interface CheckResult {
  profile?: Profile;
  problems: Problem[];
}

function originOf(path: string, origins: EnvOrigins): { name: string; raw: string } | undefined {
  for (const [target, origin] of origins) if (path === target || path.startsWith(`${target}.`)) return origin;
  return undefined;
}

export function checkProfile(text: string, file: string, options: CheckOptions): CheckResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const [start, end] = e.linePos ?? [];
        return {
          severity: 'error',
          ruleId: 'yaml-syntax',
          message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
          path: '',
          line: start?.line ?? 0,
          column: start?.col ?? 0,
          ...(end ? { endLine: end.line, endColumn: end.col } : {}),
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // The YAML library refuses to expand aliases past its limit (a billion-laughs document).
    if (!(error instanceof ReferenceError)) throw error;
    return { problems: [{ severity: 'error', ruleId: 'yaml-syntax', message: (error as Error).message, path: '', line: 1, column: 1 }] };
  }
  const data = mappingOf(value);
  if (!data) return { problems: [NOT_A_MAPPING] };
  const { profile, pending, origins } = checkData(data, file, options);
  const problems = pending.map(({ segments, at, ...problem }): Problem => {
    const origin = problem.ruleId === 'env' ? undefined : originOf(problem.path, origins);
    if (origin) {
      // The value is not in the file: point at the variable, not at a line.
      return { ...problem, ruleId: 'env', message: `${problem.message} (value "${origin.raw}" from environment variable ${origin.name})`, ...NO_SPAN };
    }
    return { ...problem, ...(problem.ruleId === 'env' ? NO_SPAN : locate(doc, lineCounter, segments, at)) };
  });
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  const failed = problems.some((p) => p.severity === 'error');
  return failed ? { problems } : { profile, problems };
}

const NOT_A_MAPPING: Problem = { severity: 'error', ruleId: 'schema', message: 'a profile must be a mapping (version: 1, vm: ..., stages: ...)', path: '', line: 1, column: 1 };

const mappingOf = (value: unknown): Record<string, unknown> | undefined => {
  const data = value ?? {};
  return typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
};

/**
 * The YAML's data of a profile text, for the trained cache to keep as JSON: undefined when the text
 * has YAML errors, is not a mapping, has aliases (JSON would make copies of what the YAML shares,
 * and the check changes what it is given in place), or holds a value that JSON would not give back
 * the same (.inf, .nan, -0, binary).
 */
export function parseForCache(text: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  let aliased = false;
  visit(doc, {
    Alias: () => {
      aliased = true;
      return visit.BREAK;
    },
  });
  if (aliased) return undefined;
  const data = mappingOf(doc.toJS());
  return data && isDeepStrictEqual(JSON.parse(JSON.stringify(data)), data) ? data : undefined;
}
