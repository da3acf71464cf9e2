// Everything the profile check does after the YAML: env overrides, the schema, the profile's own
// rules. No YAML library here: a start whose profile's parse the trained cache holds checks that
// parse with this module alone, and loads check.ts (and the YAML library with it) only when there
// is a problem to point at.
import { dirname, resolve } from 'node:path';
import validate from './generated/profile-validator.cjs';
import type { Profile } from './types.ts';
import { applyEnvOverrides, type EnvOrigins } from './env.ts';
import { schemaProblems, type PendingProblem } from './schema-errors.ts';
import { expandStageEntries, normalizeProfile } from './normalize.ts';
import { semanticProblems, type StageCatalog } from './semantic.ts';

export interface CheckOptions {
  /** Variables to apply as overrides; lint passes {} so a file is judged on its own. */
  env: NodeJS.ProcessEnv;
  catalog: StageCatalog;
}

export interface DataCheck {
  profile?: Profile;
  /** Problems without their place in the file yet. */
  pending: PendingProblem[];
  /** Which paths env overrides set, for problems that are the variable's, not the file's. */
  origins: EnvOrigins;
}

/** The check of a profile's YAML data (which it changes: stage entries expanded, env overrides set). */
export function checkData(data: Record<string, unknown>, file: string, { env, catalog }: CheckOptions): DataCheck {
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
 * The data as a check without env overrides leaves it for normalizeProfile: stage entries
 * expanded, the schema's defaults in (a copy; the trained cache keeps it, see checked.ts).
 * Undefined when the schema refuses the data.
 */
export function schemaChecked(data: Record<string, unknown>): Record<string, unknown> | undefined {
  const copy = structuredClone(data);
  expandStageEntries(copy);
  return validate(copy) ? copy : undefined;
}

/**
 * The profile from a parse of its text made before (the trained cache's), when the check finds
 * nothing to report. Undefined otherwise: checkProfile then parses the YAML, so that each problem
 * has its line and column.
 */
export function profileFromParse(data: Record<string, unknown>, file: string, options: CheckOptions): Profile | undefined {
  const { profile, pending } = checkData(data, file, options);
  return pending.length === 0 ? profile : undefined;
}
