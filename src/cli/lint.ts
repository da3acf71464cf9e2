// `startvm lint FILE...`: check profiles on their own (no env overrides), for editors and CI.
import { readFileSync } from 'node:fs';
import type { ParsedArgs } from './args.ts';
import type { FileReport } from '../report/problem.ts';
import { errorCount } from '../report/problem.ts';
import { checkProfile } from '../profile/check.ts';
import { FORMATS, formatReports, type FormatName } from '../report/format.ts';
import { builtinRegistry } from '../stages/index.ts';
import { UserError } from '../engine/errors.ts';
import { cacheDirOf, useColor } from './session.ts';
import { profileCache, type ProfileCache } from '../profile/cache.ts';
import { version } from './version.ts';

/** Lints each file; with a cache, stores the parse of every file without problems. */
export function lintFiles(files: readonly string[], cache?: ProfileCache): FileReport[] {
  const { catalog } = builtinRegistry();
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return { file, problems: [{ severity: 'error', ruleId: 'io', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, path: '', line: 0, column: 0 }] };
    }
    const { problems, data } = checkProfile(text, file, { env: {}, catalog });
    if (cache && problems.length === 0 && data && !cache.put(text, data)) process.stderr.write(`startvm: warning: could not store ${file} in the profile cache\n`);
    return { file, problems };
  });
}

export function lintCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): number {
  const format = (args.format ?? 'stylish') as FormatName;
  if (!FORMATS.includes(format)) throw new UserError(`unknown format "${format}" (formats: ${FORMATS.join(', ')})`, 2);
  if (args.files.length === 0) throw new UserError('lint needs at least one file: startvm lint profile.yaml ...', 2);
  const reports = lintFiles(args.files, args.cache ? profileCache(cacheDirOf(env)) : undefined);
  process.stdout.write(formatReports(format, reports, { color: useColor(1, env), version }));
  return errorCount(reports) > 0 ? 1 : 0;
}
