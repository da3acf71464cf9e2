// `startvm plan`: what run would do, read-only.
import type { ParsedArgs } from './args.ts';
import { loadProfileOrExit, makeLogger, resolveOrExit, runDirOf } from './session.ts';
import { StageError } from '../engine/errors.ts';
import { planPipeline } from '../engine/plan.ts';
import { commandRunner } from '../engine/command.ts';
import { flushLogs } from '../engine/logger.ts';

export async function planCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const log = makeLogger(args, env);
  const loaded = await loadProfileOrExit(args, env, log);
  const stages = await resolveOrExit(loaded.profile, loaded.registry, loaded.profileDir);
  let plan;
  try {
    plan = await planPipeline({ stages, profile: loaded.profile, profileDir: loaded.profileDir, runDir: runDirOf(args, env), env, log, run: commandRunner });
  } catch (error) {
    if (error instanceof StageError) {
      log.error(error.message);
      return 1;
    }
    throw error;
  }
  flushLogs(); // what the stages logged comes before the plan, also with 2>&1
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ profile: loaded.file, stages: plan.stages, state: plan.state }, null, 2)}\n`);
    return 0;
  }
  const lines = [`profile: ${loaded.file}`];
  plan.stages.forEach((stage, index) => {
    lines.push(`${index + 1}. ${stage.stage}${stage.enabled ? '' : ' (off)'}`);
    for (const step of stage.steps) lines.push(`   - ${step}`);
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
