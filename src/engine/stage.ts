// The contract between the engine and a stage. Built-in stages and stages loaded from a profile's
// `module:` implement the same interface.
import type { Profile } from '../profile/types.ts';
import type { Logger } from './logger.ts';
import type { CommandRunner } from './command.ts';
import type { PipelineState } from './state.ts';

export interface StageContext<Options = Record<string, unknown>> {
  readonly profile: Profile;
  /** Directory of the profile file: relative paths in options resolve against it. */
  readonly profileDir: string;
  /** This stage's options, validated and with defaults filled. */
  readonly options: Options;
  /** Values shared between stages: what capture read, which bridges and taps exist, ... Saved for re-entry. */
  readonly state: PipelineState;
  readonly log: Logger;
  readonly run: CommandRunner;
  /** Private run directory (state, dnsmasq files, QMP socket). */
  readonly runDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted when SIGTERM/SIGINT arrives before the hand-over; long waits should honour it. */
  readonly signal: AbortSignal;
  /** What this stage's prepare returned, in this run; undefined without one (and in rollback and plan). */
  readonly prepared?: Prepared;
  /**
   * Replaces this process with `file` (the hand-over). Flushes logs, drops signal handlers and never
   * returns on success. Only the last stage may call it.
   */
  handOver(file: string, args: readonly string[], env: NodeJS.ProcessEnv): never;
}

/** What a stage's prepare started; the engine lets go of it through dispose. */
export interface Prepared {
  /** Ends what prepare started, if apply did not take it over; resolves once it is gone. Must not throw. */
  dispose(): Promise<void>;
}

/** What `startvm plan` prints for a stage: each change it would make, in order. */
export type PlanLines = string[];

export interface Stage<Options = Record<string, unknown>> {
  readonly name: string;
  /** One line for --help and plan output. */
  readonly description: string;
  /** Stages that must be enabled and come earlier in the pipeline when this one runs. */
  readonly requires?: readonly string[];
  /** Stages that must come earlier if they are present. */
  readonly after?: readonly string[];
  /** The hand-over stage: must be last. */
  readonly last?: boolean;
  /**
   * JSON Schema of the options. Built-in stages declare theirs in schemas/profile.schema.json
   * (precompiled); a stage loaded from a module brings its own here.
   */
  readonly optionsSchema?: object;
  /**
   * Checks that change nothing (a binary, a device, a file). Runs for every enabled stage before
   * any stage applies, so that bad input is refused before the namespace is touched.
   */
  preflight?(ctx: StageContext<Options>): Promise<void>;
  /**
   * Starts slow work that changes nothing, such as a program's own start-up, so that it runs while
   * the stages before this one work. Called for every enabled stage once all preflights have
   * passed, in stage order, one at each of the pipeline's waits (at the latest just before the
   * stage applies); apply gets the result as ctx.prepared. The engine calls its dispose() at the end
   * of the run (before any rollback) or, for all but the hand-over stage's own, before the hand-over
   * stage, whether apply took it over or not.
   */
  prepare?(ctx: StageContext<Options>): Prepared;
  /** Makes the change. Records in ctx.state whatever rollback needs to restore exactly what it found. */
  apply(ctx: StageContext<Options>): Promise<void>;
  /** Undoes apply. Also called after a failed or interrupted apply, so it must cope with a partial one. */
  rollback?(ctx: StageContext<Options>): Promise<void>;
  /** Describes what apply would do without changing anything; may fill ctx.state as apply would. */
  plan?(ctx: StageContext<Options>): Promise<PlanLines>;
}

/** Identity function that gives a stage literal its type. */
export const defineStage = <Options>(stage: Stage<Options>): Stage<Options> => stage;
