// `startvm run`: check everything, run the stages, hand over to the VM.
import { chmodSync, mkdirSync } from 'node:fs';
import type { ParsedArgs } from './args.ts';
import { loadProfileOrExit, makeLogger, runDirOf, resolveOrExit } from './session.ts';
import { runPipeline } from '../engine/pipeline.ts';
import { commandRunner } from '../engine/command.ts';
import { InterruptedError, UserError } from '../engine/errors.ts';
import { savedStateStore } from '../engine/saved-state.ts';
import { acquireRunLock } from '../engine/run-lock.ts';
import { IpSession } from '../net/ip-session.ts';
import { withIpSession } from '../net/ip.ts';

/** The built-in stages that read and write links through src/net/ip.ts (and so through the ip session). */
const IP_STAGES = ['capture', 'bridge', 'readdress'];

function prepareRunDir(runDir: string): void {
  try {
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    // Private even when it already existed (a Kubernetes emptyDir is world-writable).
    chmodSync(runDir, 0o700);
  } catch (error) {
    throw new UserError(`cannot create run directory ${runDir}: ${(error as Error).message}`, 1);
  }
}

export async function runCommand(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  // First, so that ip starts and reads the network (for capture) while the profile is checked.
  const ip = IpSession.start();
  try {
    return await checkAndRun(args, env, ip);
  } finally {
    await ip.close(); // no-op after the hand-over's own close; after a failure, before the exit
  }
}

async function checkAndRun(args: ParsedArgs, env: NodeJS.ProcessEnv, ip: IpSession): Promise<number> {
  const log = makeLogger(args, env);
  const { profile, profileDir, registry } = await loadProfileOrExit(args, env, log);
  const stages = await resolveOrExit(profile, registry, profileDir);
  const runDir = runDirOf(args, env);
  prepareRunDir(runDir);
  const lock = acquireRunLock(runDir);
  const store = savedStateStore(runDir, log);
  try {
    const run = withIpSession(commandRunner, ip);
    // ip can exit while the later stages work, once the last stage that reads or writes links is done.
    const lastIpStage = stages.filter((s) => s.enabled && IP_STAGES.includes(s.stage.name)).at(-1)?.stage.name;
    // A stage of another kind (a module's, placed before capture) may change links in ways the
    // session cannot see, even if it then fails: the read made when startvm started would be stale.
    const beforeStage = (name: string): void => {
      if (!IP_STAGES.includes(name)) ip.forgetFirstRead();
    };
    const afterStage = (name: string): void => {
      if (name === lastIpStage) ip.end();
    };
    await runPipeline({ stages, profile, profileDir, runDir, env, log, run, state: store.load(), persist: store, beforeStage, afterStage, beforeHandOver: () => ip.close() });
  } catch (error) {
    lock.release();
    log.error(error instanceof Error ? error.message : String(error));
    // node:os only here: loading it costs ~0.3 ms, and a start that goes on never needs it.
    if (error instanceof InterruptedError) return 128 + (process.getBuiltinModule('node:os').constants.signals[error.signalName as NodeJS.Signals] ?? 15);
    return 1;
  }
  lock.release();
  log.warn('the pipeline ended without a hand-over stage (exec-kvm): nothing runs the VM');
  return 0;
}
