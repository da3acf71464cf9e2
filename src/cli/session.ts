// What every command that reads a profile shares: finding it, checking it, the logger, the run dir.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ParsedArgs } from './args.ts';
import type { Profile } from '../profile/types.ts';
import type { FileReport } from '../report/problem.ts';
import { checkProfile } from '../profile/check.ts';
import { envSetting } from '../profile/env.ts';
import { findProfile, ProfileNotFoundError } from '../profile/find.ts';
import { createLogger, type LogFormat, type Logger } from '../engine/logger.ts';
import { UserError } from '../engine/errors.ts';
import { builtinRegistry } from '../stages/index.ts';
import { stylish } from '../report/formatters/stylish.ts';
import type { StageRegistry } from '../engine/registry.ts';

export const DEFAULT_RUN_DIR = '/run/startvm';

export const useColor = (fd: number, env: NodeJS.ProcessEnv): boolean =>
  env.NO_COLOR === undefined && (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY) === true;

export function makeLogger(args: ParsedArgs, env: NodeJS.ProcessEnv): Logger {
  const format = args.logFormat ?? envSetting(env, 'STARTVM_LOG_FORMAT') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UserError(`log format must be text or json, not "${format}"`, 2);
  return createLogger({ format: format as LogFormat, color: useColor(2, env) });
}

export const runDirOf = (args: ParsedArgs, env: NodeJS.ProcessEnv): string => resolve(args.runDir ?? envSetting(env, 'STARTVM_RUN_DIR') ?? DEFAULT_RUN_DIR);

export interface LoadedProfile {
  file: string;
  profileDir: string;
  profile: Profile;
  registry: StageRegistry;
}

/** Finds, reads and checks the profile with env overrides applied; problems end the command (exit 1). */
export function loadProfileOrExit(args: ParsedArgs, env: NodeJS.ProcessEnv, log: Logger): LoadedProfile {
  let found;
  try {
    found = findProfile(args.profile, env);
  } catch (error) {
    if (error instanceof ProfileNotFoundError) throw new UserError(error.message, 1);
    throw error;
  }
  let text: string;
  try {
    text = readFileSync(found.path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read profile ${found.path}: ${(error as Error).message}`, 1);
  }
  const registry = builtinRegistry();
  const { profile, problems } = checkProfile(text, found.path, { env, catalog: registry.catalog });
  const report: FileReport[] = [{ file: found.path, problems }];
  if (!profile) {
    process.stderr.write(stylish(report, useColor(2, env)));
    throw new UserError(`profile ${found.path} has problems; nothing was changed`, 1);
  }
  if (problems.length) process.stderr.write(stylish(report, useColor(2, env)));
  log.info(`profile ${found.path} (${found.source})`, { profile: found.path, source: found.source });
  return { file: found.path, profileDir: dirname(resolve(found.path)), profile, registry };
}
