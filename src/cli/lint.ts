// `startvm lint FILE...`: check profiles on their own (no env overrides), for editors and CI.
import { readFileSync } from 'node:fs';
import type { ParsedArgs } from './args.ts';
import type { FileReport } from '../report/problem.ts';
import { errorCount } from '../report/problem.ts';
import { checkProfile } from '../profile/check.ts';
import { FORMATS, formatReports, type FormatName } from '../report/format.ts';
import { builtinRegistry } from '../stages/index.ts';
import { UserError } from '../engine/errors.ts';
import { useColor } from './session.ts';
import { version } from './version.ts';

export function lintFiles(files: readonly string[]): FileReport[] {
  const { catalog } = builtinRegistry();
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return { file, problems: [{ severity: 'error', ruleId: 'io', message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, path: '', line: 0, column: 0 }] };
    }
    return { file, problems: checkProfile(text, file, { env: {}, catalog }).problems };
  });
}

export async function lintCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const format = (args.format ?? 'stylish') as FormatName;
  if (!FORMATS.includes(format)) throw new UserError(`unknown format "${format}" (formats: ${FORMATS.join(', ')})`, 2);
  if (args.files.length === 0) throw new UserError('lint needs at least one file: startvm lint profile.yaml ...', 2);
  const warmup = args.cache ? await import('../warmup/code-cache.ts') : undefined;
  if (warmup?.isTraining()) {
    // The child that trains: each profile's check and start, then exit (bin/startvm writes the cache).
    for (const note of await warmup.trainingRun(args.files, builtinRegistry().catalog)) process.stderr.write(`startvm: note: ${note}\n`);
    return 0;
  }
  const reports = lintFiles(args.files);
  process.stdout.write(formatReports(format, reports, { color: useColor(1, env), version }));
  if (!warmup) return errorCount(reports) > 0 ? 1 : 0;
  // --cache: train the code cache on every profile that would start (warnings allowed).
  const usable = reports.filter((r) => errorCount([r]) === 0).map((r) => r.file);
  const failed = usable.length === 0 ? 'no profile without errors to train on' : warmup.trainCodeCache(usable, env);
  if (failed) {
    process.stderr.write(`startvm: the code cache was not trained (${failed}): starts will compile startvm's code\n`);
    return 1;
  }
  return errorCount(reports) > 0 ? 1 : 0;
}
