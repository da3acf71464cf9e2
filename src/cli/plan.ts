// `startvm plan`: what run would do, read-only.
import type { ParsedArgs } from './args.ts';
import { loadProfileOrExit, makeLogger, runDirOf } from './session.ts';
import { resolveStages } from '../engine/resolve.ts';
import { planPipeline } from '../engine/plan.ts';
import { commandRunner } from '../engine/command.ts';

export async function planCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const log = makeLogger(args, env);
  const loaded = loadProfileOrExit(args, env, log);
  const stages = await resolveStages(loaded.profile, loaded.registry, loaded.profileDir);
  const plan = await planPipeline({ stages, profile: loaded.profile, profileDir: loaded.profileDir, runDir: runDirOf(args, env), env, log, run: commandRunner });
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
