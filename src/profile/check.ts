// Profile text in, validated profile or problems out. The one code path shared by run, plan and lint.
import { dirname, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, parseDocument } from 'yaml';
import validate from './generated/profile-validator.cjs';
import type { Problem } from '../report/problem.ts';
import type { Profile } from './types.ts';
import { applyEnvOverrides, type EnvOrigins } from './env.ts';
import { locate, NO_SPAN } from './positions.ts';
import { schemaProblems, type PendingProblem } from './schema-errors.ts';
import { expandStageEntries, normalizeProfile } from './normalize.ts';
import { semanticProblems, type StageCatalog } from './semantic.ts';

export interface CheckOptions {
  /** Variables to apply as overrides; lint passes {} so a file is judged on its own. */
  env: NodeJS.ProcessEnv;
  catalog: StageCatalog;
  /**
   * The YAML's data for exactly this text, when it was parsed before (the trained cache, see
   * src/boot.ts), as a fresh object: the check then skips the YAML parse. A profile with any
   * problem is parsed all the same, for the lines and columns of its problems.
   */
  parsedBefore?: (text: string) => Record<string, unknown> | undefined;
}

export interface CheckResult {
  profile?: Profile;
  problems: Problem[];
}

function originOf(path: string, origins: EnvOrigins): { name: string; raw: string } | undefined {
  for (const [target, origin] of origins) if (path === target || path.startsWith(`${target}.`)) return origin;
  return undefined;
}

export function checkProfile(text: string, file: string, options: CheckOptions): CheckResult {
  const known = options.parsedBefore?.(text);
  if (known) {
    const { profile, pending } = checkData(known, file, options);
    if (profile && pending.length === 0) return { profile, problems: [] };
  }
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
  const data = mappingOf(doc.toJS());
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

/** Everything after the YAML: env overrides, the schema, the profile's own rules. Changes data. */
function checkData(data: Record<string, unknown>, file: string, { env, catalog }: CheckOptions): { profile?: Profile; pending: PendingProblem[]; origins: EnvOrigins } {
  expandStageEntries(data);
  const { problems: envProblems, origins } = applyEnvOverrides(data, env);
  const pending: PendingProblem[] = [...envProblems];
  let profile: Profile | undefined;
  if (validate(data)) {
    profile = normalizeProfile(data, dirname(resolve(file)));
    pending.push(...semanticProblems(profile, catalog, dirname(file)));
  } else {
    pending.push(...schemaProblems(validate.errors ?? []));
  }
  return { profile, pending, origins };
}

/**
 * The YAML's data of a profile text, for the trained cache to keep as JSON: undefined when the text
 * has YAML errors, is not a mapping, or holds a value that JSON would not give back the same
 * (.inf, .nan, -0).
 */
export function parseForCache(text: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  const data = mappingOf(doc.toJS());
  return data && isDeepStrictEqual(JSON.parse(JSON.stringify(data)), data) ? data : undefined;
}
