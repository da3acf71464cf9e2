// What every command that reads a profile shares: finding it, checking it, the logger, the run dir.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ParsedArgs } from './args.ts';
import type { Profile } from '../profile/types.ts';
import type { FileReport } from '../report/problem.ts';
import { checkProfileText } from '../profile/check-text.ts';
import { envSetting } from '../profile/env.ts';
import { findProfile, ProfileNotFoundError } from '../profile/find.ts';
import { isTerminal } from '../engine/node-handles.ts';
import { flushLogs, createLogger, type LogFormat, type Logger } from '../engine/logger.ts';
import { StageError, UserError } from '../engine/errors.ts';
import { builtinRegistry } from '../stages/index.ts';
import { stylish } from '../report/formatters/stylish.ts';
import type { StageRegistry } from '../engine/registry.ts';
import { resolveStages, type ResolvedStage } from '../engine/resolve.ts';
import { stageOrderProblems } from '../profile/semantic.ts';
import { trainedParseOf } from '../boot.ts';

export const DEFAULT_RUN_DIR = '/run/startvm';

// Not process.stderr.isTTY: creating the stream object costs milliseconds on `run`,
// which writes through fs.writeSync and never needs it.
export const useColor = (fd: number, env: NodeJS.ProcessEnv): boolean => env.NO_COLOR === undefined && isTerminal(fd);

export function makeLogger(args: ParsedArgs, env: NodeJS.ProcessEnv): Logger {
  const format = args.logFormat ?? envSetting(env, 'STARTVM_LOG_FORMAT') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UserError(`log format must be text or json, not "${format}"`, 2);
  return createLogger({ format: format as LogFormat, color: format === 'text' && useColor(2, env) });
}

export const runDirOf = (args: ParsedArgs, env: NodeJS.ProcessEnv): string => resolve(args.runDir ?? envSetting(env, 'STARTVM_RUN_DIR') ?? DEFAULT_RUN_DIR);

export interface LoadedProfile {
  file: string;
  profileDir: string;
  profile: Profile;
  registry: StageRegistry;
}

/**
 * Finds, reads and checks the profile with env overrides applied; problems end the command (exit 1).
 * A profile whose parse the trained cache holds is checked from it: the YAML library is loaded only
 * for another profile, or for the lines and columns of a problem.
 */
export async function loadProfileOrExit(args: ParsedArgs, env: NodeJS.ProcessEnv, log: Logger): Promise<LoadedProfile> {
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
  const { profile, problems } = await checkProfileText(text, found.path, { env, catalog: registry.catalog }, trainedParseOf(text));
  const report: FileReport[] = [{ file: found.path, problems }];
  const show = (): void => {
    if (log.format === 'text') {
      flushLogs(); // in order with what was logged before
      process.stderr.write(stylish(report, useColor(2, env)));
    }
    else for (const p of problems) log[p.severity === 'error' ? 'error' : 'warn'](p.message, { file: found.path, line: p.line, column: p.column, path: p.path, ruleId: p.ruleId });
  };
  if (!profile) {
    show();
    throw new UserError(`profile ${found.path} has problems; nothing was changed`, 1);
  }
  if (problems.length) show();
  log.info(`profile ${found.path} (${found.source})`, { profile: found.path, source: found.source });
  return { file: found.path, profileDir: dirname(resolve(found.path)), profile, registry };
}

/**
 * Loads the profile's stages, modules included, and applies the order rules that stages from
 * modules declare (lint cannot know them without importing the modules). Problems exit 1.
 */
export async function resolveOrExit(profile: Profile, registry: StageRegistry, profileDir: string): Promise<ResolvedStage[]> {
  let stages: ResolvedStage[];
  try {
    stages = await resolveStages(profile, registry, profileDir);
  } catch (error) {
    if (error instanceof StageError) throw new UserError(`${error.message}; nothing was changed`, 1);
    throw error;
  }
  const problems = stageOrderProblems(profile, (name) => stages.find((s) => s.stage.name === name)?.stage, true);
  if (problems.length) throw new UserError(`${problems.map((p) => `${p.path}: ${p.message}`).join('\n')}\nnothing was changed`, 1);
  return stages;
}
