// The check a start makes of its profile's text: from the trained cache's parse of that text when
// it has one and the check finds nothing to report, else from the YAML. check.ts, and the YAML
// library with it, is loaded only then (see check-data.ts).
import type { CheckResult } from './check.ts';
import { profileFromParse, type CheckOptions } from './check-data.ts';

/** `known`: the cache's parse of exactly this text (src/boot.ts, trainedParseOf), if any. */
export async function checkProfileText(text: string, file: string, options: CheckOptions, known?: Record<string, unknown>): Promise<CheckResult> {
  if (known) {
    try {
      const profile = profileFromParse(known, file, options);
      if (profile) return { profile, problems: [] };
    } catch {
      // A parse this build's check cannot take (the cache was edited by hand): the YAML decides.
    }
  }
  return (await import('./check.ts')).checkProfile(text, file, options);
}
