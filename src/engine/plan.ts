// `startvm plan`: every stage describes what it would do, in order, without changing anything.
import type { Profile } from '../profile/types.ts';
import type { CommandRunner } from './command.ts';
import type { Logger } from './logger.ts';
import type { ResolvedStage } from './resolve.ts';
import type { PipelineState } from './state.ts';
import { StageError } from './errors.ts';

export interface StagePlan {
  stage: string;
  enabled: boolean;
  steps: string[];
}

export interface PlanOptions {
  stages: readonly ResolvedStage[];
  profile: Profile;
  profileDir: string;
  runDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  run: CommandRunner;
}

export async function planPipeline(options: PlanOptions): Promise<{ stages: StagePlan[]; state: PipelineState }> {
  const state: PipelineState = {};
  const signal = new AbortController().signal;
  const stages: StagePlan[] = [];
  for (const entry of options.stages) {
    const name = entry.stage.name;
    if (!entry.enabled) {
      stages.push({ stage: name, enabled: false, steps: ['skipped: switched off'] });
      continue;
    }
    const ctx = {
      ...options,
      options: entry.options,
      state,
      signal,
      handOver(): never {
        throw new Error('plan never hands over');
      },
    };
    try {
      const steps = entry.stage.plan ? await entry.stage.plan(ctx) : [`${entry.stage.description} (this stage does not describe its steps)`];
      stages.push({ stage: name, enabled: true, steps });
    } catch (cause) {
      throw new StageError(name, 'plan', cause);
    }
  }
  return { stages, state };
}
