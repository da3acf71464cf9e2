// Slow work that changes nothing (a program's start-up) starts ahead of its stage, to run while the
// stages before it wait for theirs: one stage's prepare at each wait of the pipeline, since starting
// a program holds this thread for a fork and an exec (~1-2 ms) better spent while another program
// works; at the latest, just before its stage applies. See Stage.prepare.
import type { Logger } from './logger.ts';
import type { ResolvedStage } from './resolve.ts';
import type { Prepared, StageContext } from './stage.ts';

export class PreparedWork {
  private readonly done = new Map<ResolvedStage, Prepared>();
  private readonly pending: ResolvedStage[];
  private scheduled: NodeJS.Immediate | undefined;
  /** A prepare that threw: that stage's failure, for the pipeline to report before the next stage applies. */
  failure: { entry: ResolvedStage; cause: unknown } | undefined;

  private readonly contextFor: (entry: ResolvedStage) => StageContext;
  private readonly log: Logger;

  constructor(stages: readonly ResolvedStage[], contextFor: (entry: ResolvedStage) => StageContext, log: Logger) {
    this.pending = stages.filter((entry) => entry.enabled && entry.stage.prepare);
    this.contextFor = contextFor;
    this.log = log;
  }

  /** The next pending prepare, at the event loop's next turn: when the pipeline next waits for something. */
  atNextWait(): void {
    if (this.scheduled || this.pending.length === 0) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      this.run(this.pending.shift()!);
    });
  }

  /** Before a stage applies: its own prepare, and any before it that no wait gave a turn. */
  upTo(entry: ResolvedStage): void {
    while (this.pending.includes(entry)) this.run(this.pending.shift()!);
  }

  /** What the stage's prepare returned. */
  of(entry: ResolvedStage): Prepared | undefined {
    return this.done.get(entry);
  }

  /** Stops preparing and disposes of all that was prepared but `keep`'s (the hand-over stage's, which its exec ends). */
  async letGo(keep?: ResolvedStage): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.pending.length = 0;
    for (const [entry, handle] of this.done) {
      if (entry === keep) continue;
      this.done.delete(entry);
      try {
        await handle.dispose();
      } catch (cause) {
        this.log.error(`stage "${entry.stage.name}" could not end what it started ahead: ${cause instanceof Error ? cause.message : String(cause)}`, { stage: entry.stage.name });
      }
    }
  }

  private run(entry: ResolvedStage): void {
    const ctx = this.contextFor(entry);
    if (ctx.signal.aborted) return; // stopping: nothing more to start
    try {
      const result: unknown = entry.stage.prepare!(ctx);
      if (typeof (result as { then?: unknown } | undefined)?.then === 'function') {
        // Not awaited: its failure must not end the process, and what it started must not outlive the run.
        (result as Promise<Prepared | undefined>).then((late) => late?.dispose?.(), () => {}).then(undefined, () => {});
        throw new Error('prepare returned a promise: it must return { dispose } at once (start the slow work, do not wait for it)');
      }
      if (typeof (result as Prepared | undefined)?.dispose !== 'function') throw new Error('prepare must return an object with a dispose() method');
      this.done.set(entry, result as Prepared);
    } catch (cause) {
      this.failure = { entry, cause };
      this.pending.length = 0;
    }
  }
}
