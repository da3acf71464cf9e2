// Runs the stages in order with a rollback journal. When a stage fails, or SIGTERM/SIGINT arrives
// before the hand-over, the stages that ran are rolled back in reverse order (the failing one
// first, since it may have done part of its work), then the error names the stage and the cause.
import type { Profile } from '../profile/types.ts';
import type { CommandRunner } from './command.ts';
import type { Logger } from './logger.ts';
import type { ResolvedStage } from './resolve.ts';
import type { StageContext } from './stage.ts';
import { PreparedWork } from './prepare.ts';
import type { PipelineState } from './state.ts';
import { InterruptedError, StageError } from './errors.ts';
import { flushLogs } from './logger.ts';
import { processExecve, type Exec } from './execve.ts';

export interface StatePersistence {
  save(state: PipelineState): void;
  clear(): void;
}

export interface PipelineOptions {
  stages: readonly ResolvedStage[];
  profile: Profile;
  profileDir: string;
  runDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  run: CommandRunner;
  state?: PipelineState;
  /** Replaces the process; default process.execve. */
  exec?: Exec;
  /**
   * Saves the state before each stage and before the hand-over (for re-entry), and clears it once a
   * rollback has restored everything. Unchanged state need not be written again (saved-state.ts does not).
   */
  persist?: StatePersistence;
  signals?: readonly NodeJS.Signals[];
  /** Runs the stages' preflights (default true). The simulated start at image build leaves them out: they check this machine. */
  preflight?: boolean;
  /**
   * Awaited before the hand-over stage (the `last` one) starts: ends what must not outlive startvm,
   * such as a child process that the VM process would inherit after the exec (the ip session).
   */
  beforeHandOver?: () => Promise<void>;
  /** Called as each stage starts (name), before it applies. */
  beforeStage?: (name: string) => void;
  /** Called after each stage that applied without error (name), e.g. to let go of what only earlier stages use. */
  afterStage?: (name: string) => void;
  /**
   * Called while the stage before the hand-over stage waits (at its first wait), to ready the exec.
   * Default: with the default exec, load what process.execve loads.
   */
  readyExec?: () => void;
}

const defaultExec: Exec = (file, args, env) => {
  flushLogs(); // execve drops whatever is not written
  const execve = processExecve();
  if (!execve) throw new Error(`this Node.js (${process.version}) has no process.execve: startvm needs Node.js 22.15 or later`);
  return execve(file, [file, ...args], env);
};

/**
 * process.execve loads Node's worker module, and streams with it (~1.6 ms), to check that it runs on
 * the main thread, before it makes its system call. Loaded while the stage before the hand-over
 * waits for its program (dnsmasq, say), the hand-over itself skips that.
 */
const loadWhatExecveLoads = (): void => void process.getBuiltinModule('node:worker_threads');

export async function runPipeline(options: PipelineOptions): Promise<PipelineState> {
  const { log, exec = defaultExec, persist = { save() {}, clear() {} }, signals = ['SIGTERM', 'SIGINT'] } = options;
  const readyExec = options.readyExec ?? (exec === defaultExec ? loadWhatExecveLoads : undefined);
  const enabled = options.stages.filter((entry) => entry.enabled);
  const lastBeforeHandOver = enabled.at(-1)?.stage.last ? enabled.at(-2) : undefined;
  const state: PipelineState = options.state ?? {};
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received) return; // already stopping
    received = signal;
    log.warn(`received ${signal}: stopping and rolling back`);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  const removeHandlers = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  for (const signal of signals) process.on(signal, onSignal);

  const contextFor = (entry: ResolvedStage, signal: AbortSignal = controller.signal): StageContext => ({
    profile: options.profile,
    profileDir: options.profileDir,
    options: entry.options,
    state,
    log,
    run: options.run,
    runDir: options.runDir,
    env: options.env,
    signal,
    handOver(file, args, env) {
      persist.save(state); // what the stages recorded, for a re-entry after the VM ends
      log.stage(entry.stage.name, 'done', { detail: `handing over to ${file}` });
      removeHandlers();
      return exec(file, args, env);
    },
  });

  // Everything that can be checked without a change is checked before the first change.
  for (const entry of options.preflight === false ? [] : options.stages) {
    if (!entry.enabled || !entry.stage.preflight) continue;
    try {
      await entry.stage.preflight(contextFor(entry));
    } catch (cause) {
      removeHandlers();
      log.stage(entry.stage.name, 'failed', { detail: `preflight: ${cause instanceof Error ? cause.message : String(cause)}` });
      throw new StageError(entry.stage.name, 'preflight', cause);
    }
  }

  // Slow work that changes nothing (a program's start-up) starts ahead: see prepare.ts.
  let failure: { entry: ResolvedStage; cause: unknown } | undefined;
  const ahead = new PreparedWork(options.stages, contextFor, log);
  ahead.atNextWait();

  // The journal: stages whose changes may be in the namespace. Those that can be undone are saved
  // with the state (state.applied), so that a start after an interrupted one (re-entry) undoes the
  // earlier start's changes too.
  const applied = new Set(state.applied ?? []);
  const journal = options.stages.filter((entry) => entry.enabled && applied.has(entry.stage.name));
  try {
    for (const entry of options.stages) {
      const name = entry.stage.name;
      ahead.upTo(entry);
      if (ahead.failure) {
        failure = ahead.failure;
        break;
      }
      if (!entry.enabled) {
        log.stage(name, 'skipped', { detail: 'switched off' });
        continue;
      }
      // Before the hand-over stage starts, and before the check for a signal: one that arrives while
      // this waits must still stop the run (after the hand-over, nothing could roll back).
      if (entry.stage.last) {
        await ahead.letGo(entry); // nothing started ahead may outlive the exec
        try {
          await options.beforeHandOver?.();
        } catch (cause) {
          failure = { entry, cause };
          break;
        }
      }
      if (received) break;
      log.stage(name, 'start');
      // process.hrtime: the global `performance` loads perf_hooks and ten modules with it on first use.
      const started = process.hrtime.bigint();
      if (!journal.includes(entry)) journal.push(entry);
      const undoable = journal.filter((e) => e.stage.rollback).map((e) => e.stage.name);
      if (undoable.length) state.applied = undoable;
      // Whatever fails from here (a save on a full disk, say) is this stage's failure, rolled back.
      try {
        options.beforeStage?.(name);
        // Before the stage, so a kill in the middle of its change still leaves a record; the write also
        // carries what the stages before recorded (capture's findings, say). A stage that changes
        // nothing and records nothing (capture on its way in, exec-kvm) leaves the state as it was, and
        // the store does not write it again.
        persist.save(state);
        ahead.atNextWait(); // the next one, while this stage waits
        if (entry === lastBeforeHandOver && readyExec) setImmediate(readyExec);
        await entry.stage.apply({ ...contextFor(entry), prepared: ahead.of(entry) });
        log.stage(name, 'done', { ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6) });
        options.afterStage?.(name);
      } catch (cause) {
        failure = { entry, cause };
        break;
      }
    }
  } finally {
    // Before any rollback, so nothing started ahead races it; and even when something above throws,
    // so that nothing started ahead keeps the process alive.
    await ahead.letGo();
  }
  if (!failure && !received) {
    persist.save(state);
    removeHandlers();
    return state;
  }

  const stopped = failure?.entry.stage.name;
  if (failure && !received) log.stage(failure.entry.stage.name, 'failed', { detail: failure.cause instanceof Error ? failure.cause.message : String(failure.cause) });
  // Saved state is the only record of the original configuration: keep it unless everything was restored.
  const restored = await rollback(journal.reverse(), contextFor, log);
  try {
    if (restored) persist.clear();
    else persist.save(state);
  } catch (cause) {
    // The error to report is the stage's; this one is said too.
    log.error(`cannot ${restored ? 'clear' : 'save'} the saved state after the rollback: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  removeHandlers();
  if (received) throw new InterruptedError(received, stopped);
  throw new StageError(failure!.entry.stage.name, 'apply', failure!.cause);
}

async function rollback(entries: readonly ResolvedStage[], contextFor: (entry: ResolvedStage, signal: AbortSignal) => StageContext, log: Logger): Promise<boolean> {
  // Rollback runs to the end even though the run was aborted: it gets a signal of its own.
  const signal = new AbortController().signal;
  let complete = true;
  for (const entry of entries) {
    if (!entry.stage.rollback) continue;
    log.stage(entry.stage.name, 'rollback');
    try {
      await entry.stage.rollback(contextFor(entry, signal));
      log.stage(entry.stage.name, 'rolled-back');
    } catch (cause) {
      // Keep going: the other stages' changes must still be undone.
      complete = false;
      log.error(`rollback of stage "${entry.stage.name}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { stage: entry.stage.name });
    }
  }
  return complete;
}
