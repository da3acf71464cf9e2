// Judging a parsed profile: env overrides, the schema, normalisation and the semantic rules. No YAML
// here, so that a start whose parse comes from the profile cache never loads the YAML parser.
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

export interface Judgement {
  /** Set when the schema accepted the data (there may still be semantic problems). */
  profile?: Profile;
  /** Problems without positions yet: only the YAML document knows those (check.ts). */
  pending: PendingProblem[];
  origins: EnvOrigins;
}

/** Judges the data as the YAML document gave it (plain values); `data` itself is left untouched. */
export function judgeProfile(data: Record<string, unknown>, file: string, { env, catalog }: CheckOptions): Judgement {
  const working = structuredClone(data);
  expandStageEntries(working);
  const { problems, origins } = applyEnvOverrides(working, env);
  const pending: PendingProblem[] = [...problems];
  if (!validate(working)) return { pending: [...pending, ...schemaProblems(validate.errors ?? [])], origins };
  const profile = normalizeProfile(working, dirname(resolve(file)));
  pending.push(...semanticProblems(profile, catalog, dirname(file)));
  return { profile, pending, origins };
}

/** The profile when the data has no problem at all (not even a warning), else undefined. */
export function cleanProfile(data: Record<string, unknown>, file: string, options: CheckOptions): Profile | undefined {
  const { profile, pending } = judgeProfile(data, file, options);
  return pending.length === 0 ? profile : undefined;
}
