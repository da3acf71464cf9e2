// A start of a profile whose checked form the trained cache holds, with no env override set: the
// schema ran on exactly this data at training (same text, same bundle, no override then or now), so
// only what depends on the start remains: paths resolved against the profile's folder, and the
// profile's own rules, some of which look at files. Neither the YAML library nor the schema
// validator is loaded for it (check-data.ts and check.ts are imported on demand).
import { dirname, resolve } from 'node:path';
import type { Profile } from './types.ts';
import { setsOverrides } from './env.ts';
import { normalizeProfile } from './normalize.ts';
import { semanticProblems, type StageCatalog } from './semantic.ts';

/** The profile from the checked form, when it applies (no override set) and the profile's rules find nothing; else undefined. */
export function profileFromChecked(checked: Record<string, unknown>, file: string, { env, catalog }: { env: NodeJS.ProcessEnv; catalog: StageCatalog }): Profile | undefined {
  if (setsOverrides(env)) return undefined;
  const profile = normalizeProfile(checked, dirname(resolve(file)));
  return semanticProblems(profile, catalog, dirname(file)).length === 0 ? profile : undefined;
}
