// `startvm doctor`: what the host lacks for this profile, and the fix for each. Reads only.
import type { ParsedArgs } from './args.ts';
import { useColor } from './session.ts';
import { exitCodeOf, runChecks } from '../doctor/checks.ts';
import { formatJson, formatText } from '../doctor/format.ts';
import { hostDoctorProbes } from '../doctor/probes.ts';

export function doctorCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): number {
  const results = runChecks(hostDoctorProbes(args.profile, env));
  process.stdout.write(args.json ? formatJson(results) : formatText(results, useColor(1, env)));
  return exitCodeOf(results);
}
