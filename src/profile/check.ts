// Profile text in, validated profile or problems out. The one code path shared by run, plan and lint.
import { dirname, resolve } from 'node:path';
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
}

export interface CheckResult {
  profile?: Profile;
  problems: Problem[];
}

function originOf(path: string, origins: EnvOrigins): { name: string; raw: string } | undefined {
  for (const [target, origin] of origins) if (path === target || path.startsWith(`${target}.`)) return origin;
  return undefined;
}

export function checkProfile(text: string, file: string, { env, catalog }: CheckOptions): CheckResult {
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
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { problems: [{ severity: 'error', ruleId: 'schema', message: 'a profile must be a mapping (version: 1, vm: ..., stages: ...)', path: '', line: 1, column: 1 }] };
  }
  const data = raw as Record<string, unknown>;
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
