// The check a start makes of its profile's text, from what the trained cache keeps of that text
// when it has it and the check finds nothing to report: the checked form (checked.ts) when no env
// override is set, else the parse through the overrides and the schema (check-data.ts). Otherwise,
// and for the lines and columns of any problem, from the YAML.
// check-data.ts (with the schema validator) and check.ts (with the YAML library) are loaded only
// when needed.
import type { TrainedParse } from '../boot.ts';
import type { CheckResult } from './check.ts';
import type { CheckOptions } from './check-data.ts';
import { profileFromChecked, takesChecked } from './checked.ts';

/** `known`: what the cache keeps of exactly this text (src/boot.ts, trainedParseOf), if anything. */
export async function checkProfileText(text: string, file: string, options: CheckOptions, known?: TrainedParse): Promise<CheckResult> {
  if (known) {
    try {
      const profile = takesChecked(known, options.env) ? profileFromChecked(known.checked, file, options.catalog) : (await import('./check-data.ts')).profileFromParse(known.data, file, options);
      if (profile) return { profile, problems: [] };
    } catch {
      // A form this build's check throws on (a cache edited by hand): the YAML decides.
    }
  }
  return (await import('./check.ts')).checkProfile(text, file, options);
}
