// Checks the schema cannot express: stage order and dependencies, duplicates, template variables,
// options that only make sense together.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Profile } from './types.ts';
import type { PendingProblem } from './schema-errors.ts';
import { isKnownVariable, knownVariablesText, templateVariables } from './template-vars.ts';

/** What the order rules need to know about a stage; built-in stages provide it from their definitions. */
export interface StageRules {
  requires?: readonly string[];
  after?: readonly string[];
  last?: boolean;
}

export type StageCatalog = (name: string) => StageRules | undefined;

const error = (message: string, segments: (string | number)[], ruleId: string, at: 'key' | 'value' = 'value'): PendingProblem => ({
  severity: 'error',
  ruleId,
  message,
  path: segments.join('.'),
  segments: segments.map(String),
  at,
});

/** withModules: also apply the rules of stages loaded from modules (at run time, once they are loaded). */
export function stageOrderProblems(profile: Profile, catalog: StageCatalog, withModules = false): PendingProblem[] {
  const problems: PendingProblem[] = [];
  const firstIndex = new Map<string, number>();
  profile.stages.forEach((entry, index) => {
    if (firstIndex.has(entry.stage)) problems.push(error(`stage "${entry.stage}" is listed twice (first at stages.${firstIndex.get(entry.stage)})`, ['stages', index], 'duplicate-stage'));
    else firstIndex.set(entry.stage, index);
  });
  const enabled = profile.stages.map((entry, index) => ({ ...entry, index })).filter((entry) => entry.enabled);
  const lastEnabled = enabled[enabled.length - 1];
  for (const entry of enabled) {
    const rules = entry.module && !withModules ? undefined : catalog(entry.stage);
    if (!rules) continue;
    const at = ['stages', entry.index];
    for (const needed of rules.requires ?? []) {
      const other = profile.stages.findIndex((s) => s.stage === needed);
      if (other < 0) problems.push(error(`stage "${entry.stage}" needs stage "${needed}" earlier in the pipeline`, at, 'stage-order'));
      else if (!profile.stages[other]!.enabled) problems.push(error(`stage "${entry.stage}" needs stage "${needed}", which is switched off`, at, 'stage-order'));
      else if (other > entry.index) problems.push(error(`stage "${entry.stage}" must come after "${needed}"`, at, 'stage-order'));
    }
    // A misplaced hand-over stage is one mistake: report it once, below, not once per stage it precedes.
    for (const before of rules.last && entry !== lastEnabled ? [] : (rules.after ?? [])) {
      const other = profile.stages.findIndex((s) => s.stage === before && s.enabled);
      if (other > entry.index) problems.push(error(`stage "${entry.stage}" must come after "${before}"`, at, 'stage-order'));
    }
    if (rules.last && entry !== lastEnabled) problems.push(error(`stage "${entry.stage}" hands the container over to the VM and must be the last stage`, at, 'stage-order'));
  }
  return problems;
}

function vmProblems(profile: Profile): PendingProblem[] {
  const problems: PendingProblem[] = [];
  const vm = profile.vm;
  for (const key of ['initrd', 'append'] as const) {
    if (vm[key] !== undefined && vm.kernel === undefined) problems.push(error(`vm.${key} needs vm.kernel (direct kernel boot)`, ['vm', key], 'vm-options', 'key'));
  }
  vm.args.forEach((arg, index) => {
    let names: string[];
    try {
      names = templateVariables(arg);
    } catch (cause) {
      problems.push(error(`vm.args.${index} is not a valid template: ${(cause as Error).message}`, ['vm', 'args', index], 'template'));
      return;
    }
    for (const name of names.filter((n) => !isKnownVariable(n))) {
      problems.push(error(`vm.args.${index} uses the unknown template variable "${name}" (known: ${knownVariablesText})`, ['vm', 'args', index], 'template'));
    }
  });
  return problems;
}

function moduleProblems(profile: Profile, profileDir: string): PendingProblem[] {
  return profile.stages.flatMap((entry, index) =>
    entry.module && !existsSync(resolve(profileDir, entry.module))
      ? [error(`stage module "${entry.module}" not found (looked in ${resolve(profileDir, entry.module)})`, ['stages', index, 'module'], 'stage-module')]
      : [],
  );
}

export function semanticProblems(profile: Profile, catalog: StageCatalog, profileDir: string): PendingProblem[] {
  return [...stageOrderProblems(profile, catalog), ...vmProblems(profile), ...moduleProblems(profile, profileDir)];
}
