// A start of a profile whose checked form the trained cache holds, with no env override set: the
// schema ran on exactly this data at training (same text, same bundle, no override then or now), so
// only what depends on the start remains: paths resolved against the profile's folder, and the
// profile's own rules, some of which look at files. Neither the YAML library nor the schema
// validator is loaded for it (check-data.ts and check.ts are imported on demand). The checked form
// is not put through the schema again: starts trust the cache as they trust the bundle, and
// startvm doctor compares it with what the file gives.
import { dirname, resolve } from 'node:path';
import type { TrainedParse } from '../boot.ts';
import type { Profile } from './types.ts';
import { setsOverrides } from './env.ts';
import { normalizeProfile } from './normalize.ts';
import { semanticProblems, type StageCatalog } from './semantic.ts';

/** Whether a start takes the checked form: the cache has one, and no env override is set. Otherwise the parse goes through the overrides and the schema. */
export const takesChecked = (known: TrainedParse, env: NodeJS.ProcessEnv): known is Required<TrainedParse> => known.checked !== undefined && !setsOverrides(env);

/** The profile from the checked form, when the profile's rules find nothing; else undefined. */
export function profileFromChecked(checked: Record<string, unknown>, file: string, catalog: StageCatalog): Profile | undefined {
  const profile = normalizeProfile(checked, dirname(resolve(file)));
  return semanticProblems(profile, catalog, dirname(file)).length === 0 ? profile : undefined;
}
