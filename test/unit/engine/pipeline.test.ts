// The pipeline runner: order, rollback in reverse when a stage fails or a signal arrives, the
// hand-over, and state saved for re-entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runPipeline } from '../../../src/engine/pipeline.ts';
import { savedStateStore } from '../../../src/engine/saved-state.ts';
import type { PipelineState } from '../../../src/engine/state.ts';
import { memoryLogger } from '../../../src/engine/logger.ts';
import { InterruptedError, StageError } from '../../../src/engine/errors.ts';
import type { Stage } from '../../../src/engine/stage.ts';
import type { ResolvedStage } from '../../../src/engine/resolve.ts';
import type { Profile } from '../../../src/profile/types.ts';

const profile = { version: 1, vm: {}, network: { interfaces: 'auto' }, stages: [] } as unknown as Profile;

function recorder() {
  const events: string[] = [];
  const stage = (name: string, behaviour: { fail?: boolean; waitForAbort?: boolean; rollbackFails?: boolean } = {}): ResolvedStage => ({
    enabled: true,
    options: {},
    stage: {
      name,
      description: name,
      async apply(ctx) {
        events.push(`apply ${name}`);
        if (behaviour.waitForAbort) {
          // Stand-in for a long step (a command honouring ctx.signal): ends when the run is aborted.
          // The interval keeps the event loop alive as a running child process would.
          const busy = setInterval(() => {}, 1000);
          setTimeout(() => process.kill(process.pid, 'SIGTERM'), 10);
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          clearInterval(busy);
          events.push(`aborted ${name}`);
        }
        if (behaviour.fail) throw new Error(`${name} broke`);
      },
      async rollback() {
        events.push(`rollback ${name}`);
        if (behaviour.rollbackFails) throw new Error(`${name} rollback broke`);
      },
    } satisfies Stage,
  });
  return { events, stage };
}

const base = { profile, profileDir: '/', runDir: '/nonexistent', env: {}, run: async () => ({ stdout: '', stderr: '', exitCode: 0 }) };

test('stages run in order; a pipeline without a hand-over returns its state', async () => {
  const { events, stage } = recorder();
  const log = memoryLogger();
  await runPipeline({ ...base, log, stages: [stage('a'), stage('b'), stage('c')] });
  assert.equal(events, ['apply a', 'apply b', 'apply c']);
  assert.ok(log.lines.some((l) => l.includes('[a] start')));
  assert.ok(log.lines.some((l) => /\[c\] done \(\d+ ms\)/.test(l)));
});

test('a failing stage rolls back itself and the completed stages in reverse order, then names the stage', async () => {
  const { events, stage } = recorder();
  const saves: string[] = [];
  const error = await runPipeline({
    ...base,
    log: memoryLogger(),
    stages: [stage('a'), stage('b'), stage('c', { fail: true }), stage('d')],
    persist: { save: (state) => saves.push(`save ${state.applied?.join(',')}`), clear: () => saves.push('clear') },
  }).catch((e: unknown) => e);
  assert.instance(error, StageError);
  assert.is((error as StageError).stage, 'c');
  assert.is((error as Error).message, 'stage "c" failed: c broke');
  assert.equal(events, ['apply a', 'apply b', 'apply c', 'rollback c', 'rollback b', 'rollback a']);
  // The journal is saved before each change (a kill mid-stage leaves a record; the same write carries
  // what the previous stage recorded); a full rollback clears it.
  assert.equal(saves, ['save a', 'save a,b', 'save a,b,c', 'clear']);
});

test('a failing rollback does not stop the others, and keeps the saved state for the next start', async () => {
  const { events, stage } = recorder();
  const saves: string[] = [];
  const log = memoryLogger();
  const state = { captured: { marker: true } } as never;
  await runPipeline({ ...base, log, state, stages: [stage('a'), stage('b', { rollbackFails: true }), stage('c', { fail: true })], persist: { save: (s) => saves.push(JSON.stringify(s)), clear: () => saves.push('clear') } }).catch(() => {});
  assert.equal(events, ['apply a', 'apply b', 'apply c', 'rollback c', 'rollback b', 'rollback a']);
  assert.ok(log.lines.some((l) => l.includes('rollback of stage "b" failed: b rollback broke')));
  assert.not.ok(saves.includes('clear'));
  assert.equal(JSON.parse(saves[saves.length - 1]!), { captured: { marker: true }, applied: ['a', 'b', 'c'] }, 'what the next start needs is kept intact');
});

test('SIGTERM mid-pipeline: the running stage is aborted, everything rolls back, nothing after it runs', async () => {
  const { events, stage } = recorder();
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), stage('b', { waitForAbort: true }), stage('c')] }).catch((e: unknown) => e);
  assert.instance(error, InterruptedError);
  assert.is((error as InterruptedError).signalName, 'SIGTERM');
  assert.equal(events, ['apply a', 'apply b', 'aborted b', 'rollback b', 'rollback a']);
  assert.is(process.listenerCount('SIGTERM'), 0, 'signal handlers are removed afterwards');
});

test('re-entry: stages applied by an earlier, interrupted start are rolled back too', async () => {
  const { events, stage } = recorder();
  const state = { applied: ['a', 'b'] };
  await runPipeline({ ...base, log: memoryLogger(), state, stages: [stage('a'), stage('b'), stage('c', { fail: true })] }).catch(() => {});
  assert.equal(events, ['apply a', 'apply b', 'apply c', 'rollback c', 'rollback b', 'rollback a']);
});

test('re-entry: a SIGTERM before any stage of this start still undoes the earlier start', async () => {
  const { events, stage } = recorder();
  const state = { applied: ['a', 'b'] };
  const stall: ResolvedStage = {
    enabled: true,
    options: {},
    stage: {
      name: 'check',
      description: 'a preflight that is still running when the signal comes',
      async preflight() {
        const busy = setInterval(() => {}, 1000);
        process.kill(process.pid, 'SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, 20));
        clearInterval(busy);
      },
      async apply() {
        events.push('apply check');
      },
    },
  };
  const error = await runPipeline({ ...base, log: memoryLogger(), state, stages: [stage('a'), stage('b'), stall] }).catch((e: unknown) => e);
  assert.instance(error, InterruptedError);
  assert.equal(events, ['rollback b', 'rollback a']);
});

test('switched-off stages are skipped and logged', async () => {
  const { events, stage } = recorder();
  const log = memoryLogger();
  await runPipeline({ ...base, log, stages: [stage('a'), { ...stage('b'), enabled: false }] });
  assert.equal(events, ['apply a']);
  assert.ok(log.lines.some((l) => l.includes('[b] skipped: switched off')));
});

test('the hand-over calls exec with the exact arguments after removing the signal handlers', async () => {
  const calls: unknown[] = [];
  const handOver: ResolvedStage = {
    enabled: true,
    options: {},
    stage: { name: 'exec', description: 'exec', async apply(ctx) { ctx.handOver('/bin/qemu', ['-m', '256'], { A: '1' }); } },
  };
  const exec = ((file: string, args: readonly string[], env: NodeJS.ProcessEnv) => {
    calls.push([file, args, env, process.listenerCount('SIGTERM')]);
    throw new Error('exec failed: ENOENT');
  }) as never;
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [handOver], exec }).catch((e: unknown) => e);
  assert.equal(calls, [['/bin/qemu', ['-m', '256'], { A: '1' }, 0]]);
  assert.is((error as Error).message, 'stage "exec" failed: exec failed: ENOENT');
});

/** A last stage that hands over, and an exec that records the call instead of replacing the process. */
function handOverWith(events: string[]): { handOver: ResolvedStage; exec: never } {
  const handOver: ResolvedStage = {
    enabled: true,
    options: {},
    stage: { name: 'exec', description: 'exec', last: true, async apply(ctx) { events.push('apply exec'); ctx.handOver('/bin/qemu', [], {}); } },
  };
  const exec = (() => {
    events.push('exec');
    throw new Error('recorded instead of replacing the process');
  }) as never;
  return { handOver, exec };
}

test('beforeStage hears of each stage as it starts, afterStage of each that applied; beforeHandOver is awaited before the hand-over stage starts', async () => {
  const { events, stage } = recorder();
  const { handOver, exec } = handOverWith(events);
  const beforeHandOver = async (): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 5)); // a child process exiting, say
    events.push('released');
  };
  const beforeStage = (name: string) => events.push(`before ${name}`);
  await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), stage('b'), handOver], exec, beforeStage, afterStage: (name) => events.push(`after ${name}`), beforeHandOver }).catch(() => {});
  assert.equal(events.slice(0, 10), ['before a', 'apply a', 'after a', 'before b', 'apply b', 'after b', 'released', 'before exec', 'apply exec', 'exec']);
});

test('a SIGTERM while beforeHandOver waits stops the run: no hand-over, everything rolled back', async () => {
  const { events, stage } = recorder();
  const { handOver, exec } = handOverWith(events);
  const beforeHandOver = async (): Promise<void> => {
    process.kill(process.pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), handOver], exec, beforeHandOver }).catch((e: unknown) => e);
  assert.instance(error, InterruptedError);
  assert.equal(events, ['apply a', 'rollback a']);
});

/** A stage with a prepare that records what happens to what it started ahead. */
function preparing(events: string[], name: string, behaviour: { fail?: boolean; prepareFails?: boolean; preflightFails?: boolean } = {}): ResolvedStage {
  return {
    enabled: true,
    options: {},
    stage: {
      name,
      description: name,
      async preflight() {
        events.push(`preflight ${name}`);
        if (behaviour.preflightFails) throw new Error(`${name} cannot run`);
      },
      prepare() {
        events.push(`prepare ${name}`);
        if (behaviour.prepareFails) throw new Error(`${name} could not start ahead`);
        return { token: `${name}'s`, dispose: async () => void events.push(`dispose ${name}`) } as never;
      },
      async apply(ctx) {
        events.push(`apply ${name} with ${(ctx.prepared as unknown as { token: string }).token}`);
        if (behaviour.fail) throw new Error(`${name} broke`);
      },
      async rollback(ctx) {
        events.push(`rollback ${name}${ctx.prepared ? ' with it' : ''}`);
      },
    } satisfies Stage,
  };
}

test('prepare runs for every enabled stage after all preflights, at the latest just before the stage applies; apply gets what it returned', async () => {
  const { events, stage } = recorder();
  await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), preparing(events, 'b'), { ...preparing(events, 'off'), enabled: false }, preparing(events, 'c')] });
  assert.equal(events, ['preflight b', 'preflight c', 'apply a', 'prepare b', "apply b with b's", 'prepare c', "apply c with c's", 'dispose b', 'dispose c']);
});

/** A stage that waits for an answer (an ip batch, say), as a stage waits for a program. */
const waitingStage = (events: string[], name: string): ResolvedStage => ({
  enabled: true,
  options: {},
  stage: {
    name,
    description: name,
    async apply() {
      events.push(`apply ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`${name} has its answer`);
    },
  },
});

test('prepares run one at each wait of the pipeline, in stage order: while earlier stages wait for their commands', async () => {
  const events: string[] = [];
  await runPipeline({ ...base, log: memoryLogger(), stages: [waitingStage(events, 'a'), waitingStage(events, 'b'), preparing(events, 'c'), preparing(events, 'd')] });
  assert.equal(events, ['preflight c', 'preflight d', 'apply a', 'prepare c', 'a has its answer', 'apply b', 'prepare d', 'b has its answer', "apply c with c's", "apply d with d's", 'dispose c', 'dispose d']);
});

test('a failed preflight: nothing is prepared', async () => {
  const events: string[] = [];
  await runPipeline({ ...base, log: memoryLogger(), stages: [preparing(events, 'a'), preparing(events, 'b', { preflightFails: true })] }).catch(() => {});
  assert.equal(events, ['preflight a', 'preflight b']);
});

test('a failing stage: what was started ahead is let go of before the rollback, whether apply took it or not', async () => {
  const events: string[] = [];
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [preparing(events, 'a'), preparing(events, 'b', { fail: true }), preparing(events, 'c')] }).catch((e: unknown) => e);
  assert.is((error as Error).message, 'stage "b" failed: b broke');
  assert.equal(events.slice(3), ['prepare a', "apply a with a's", 'prepare b', "apply b with b's", 'dispose a', 'dispose b', 'rollback b', 'rollback a']);
  // With a wait before them, all three are prepared (one per wait), and all three let go of.
  events.length = 0;
  await runPipeline({ ...base, log: memoryLogger(), stages: [waitingStage(events, 'w1'), waitingStage(events, 'w2'), waitingStage(events, 'w3'), preparing(events, 'a'), preparing(events, 'b', { fail: true }), preparing(events, 'c')] }).catch(() => {});
  assert.equal(events.filter((e) => e.startsWith('dispose')), ['dispose a', 'dispose b', 'dispose c']);
});

test('a prepare that throws fails its stage before it applies; what the others started is let go of, the stages before roll back', async () => {
  const events: string[] = [];
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [preparing(events, 'a'), preparing(events, 'b', { prepareFails: true }), preparing(events, 'c')] }).catch((e: unknown) => e);
  assert.instance(error, StageError);
  assert.is((error as Error).message, 'stage "b" failed: b could not start ahead');
  assert.equal(events.slice(3), ['prepare a', "apply a with a's", 'prepare b', 'dispose a', 'rollback a']);
});

test('before the hand-over stage, everything else started ahead is let go of (nothing may outlive the exec)', async () => {
  const events: string[] = [];
  const { handOver, exec } = handOverWith(events);
  const preparingHandOver: ResolvedStage = { ...handOver, stage: { ...handOver.stage, prepare: () => ({ dispose: async () => void events.push('dispose exec') }) } };
  await runPipeline({ ...base, log: memoryLogger(), stages: [preparing(events, 'a'), preparingHandOver], exec, beforeHandOver: async () => void events.push('released') }).catch(() => {});
  // The hand-over stage's own goes with the exec; here the exec fails, and the end of the run lets go of it.
  assert.equal(events, ['preflight a', 'prepare a', "apply a with a's", 'dispose a', 'released', 'apply exec', 'exec', 'dispose exec', 'rollback a']);
});

test('the exec is readied while the stage before the hand-over stage waits, once', async () => {
  const events: string[] = [];
  const { handOver, exec } = handOverWith(events);
  await runPipeline({ ...base, log: memoryLogger(), stages: [waitingStage(events, 'a'), waitingStage(events, 'b'), { ...waitingStage(events, 'off'), enabled: false }, handOver], exec, readyExec: () => void events.push('exec readied') }).catch(() => {});
  assert.equal(events, ['apply a', 'a has its answer', 'apply b', 'exec readied', 'b has its answer', 'apply exec', 'exec']);
  // Without a hand-over stage there is nothing to ready.
  events.length = 0;
  await runPipeline({ ...base, log: memoryLogger(), stages: [waitingStage(events, 'a')], readyExec: () => void events.push('exec readied') });
  assert.equal(events, ['apply a', 'a has its answer']);
});

test("a prepare that returns a promise, or no dispose, fails its stage; a promise's rejection does not end the process", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    let lateDisposed = false;
    for (const [returned, message] of [
      [() => Promise.reject(new Error('async prepare broke')), /prepare returned a promise/],
      [async () => ({ dispose: async () => void (lateDisposed = true) }), /prepare returned a promise/],
      [() => ({}), /prepare must return an object with a dispose\(\) method/],
    ] as const) {
      const events: string[] = [];
      const stage = { ...preparing(events, 'a'), stage: { ...preparing(events, 'a').stage, prepare: returned as never } };
      const error = await runPipeline({ ...base, log: memoryLogger(), stages: [stage] }).catch((e: unknown) => e);
      assert.match((error as Error).message, message);
      assert.not.ok(events.some((e) => e.startsWith('apply')), 'the stage did not apply');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(unhandled, []);
    assert.ok(lateDisposed, 'what an async prepare started is let go of when it comes');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('once SIGTERM has arrived, nothing more is prepared', async () => {
  const events: string[] = [];
  const signalling: ResolvedStage = {
    enabled: true,
    options: {},
    stage: {
      name: 'a',
      description: 'a',
      async apply(ctx) {
        events.push('apply a');
        process.kill(process.pid, 'SIGTERM');
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        // and returns: the engine moves on to b, whose prepare it would run just before b applies
      },
    },
  };
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [signalling, preparing(events, 'b')] }).catch((e: unknown) => e);
  assert.instance(error, InterruptedError);
  assert.equal(events, ['preflight b', 'apply a']);
});

test('a state save that fails before a stage fails that stage: the stages before roll back, what was started ahead is let go of', async () => {
  const events: string[] = [];
  let saves = 0;
  const persist = { save: () => void (++saves === 2 && (() => { throw new Error('ENOSPC: no space left on device'); })()), clear: () => {} };
  const error = await runPipeline({ ...base, log: memoryLogger(), persist, stages: [preparing(events, 'a'), preparing(events, 'b')] }).catch((e: unknown) => e);
  assert.is((error as Error).message, 'stage "b" failed: ENOSPC: no space left on device');
  assert.equal(events.slice(2), ['prepare a', "apply a with a's", 'prepare b', 'dispose a', 'dispose b', 'rollback b', 'rollback a']);
});

test('a dispose that throws is logged; the others are still let go of', async () => {
  const events: string[] = [];
  const log = memoryLogger();
  const broken = preparing(events, 'a');
  const stage = { ...broken.stage, prepare: () => ({ token: '', dispose: async () => Promise.reject(new Error('stuck')) }) as never };
  await runPipeline({ ...base, log, stages: [{ ...broken, stage }, preparing(events, 'b')] });
  assert.ok(events.includes('dispose b'));
  assert.ok(log.lines.some((l) => l.includes('stage "a" could not end what it started ahead: stuck')), log.lines.join('\n'));
});

test('a stage that fails was announced by beforeStage, but afterStage is not called for it', async () => {
  const { events, stage } = recorder();
  await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), stage('b', { fail: true })], beforeStage: (name) => events.push(`before ${name}`), afterStage: (name) => events.push(`after ${name}`) }).catch(() => {});
  assert.equal(events, ['before a', 'apply a', 'after a', 'before b', 'apply b', 'rollback b', 'rollback a']);
});

test('state is saved before every stage and before the hand-over; the journal names only stages that can be undone', async () => {
  const { stage } = recorder();
  const saves: string[] = [];
  // Like capture: records what it found, changes nothing, so has no rollback.
  const look: ResolvedStage = { enabled: true, options: {}, stage: { name: 'look', description: 'look', async apply(ctx) { (ctx.state as Record<string, unknown>).seen = true; } } };
  const handOver: ResolvedStage = { enabled: true, options: {}, stage: { name: 'exec', description: 'exec', async apply(ctx) { ctx.handOver('/bin/qemu', [], {}); } } };
  const exec = ((file: string) => {
    saves.push(`exec ${file}`);
    throw new Error('stop here');
  }) as never;
  await runPipeline({
    ...base,
    log: memoryLogger(),
    stages: [look, stage('a'), stage('b'), handOver],
    exec,
    persist: { save: (state) => saves.push(`save ${state.applied?.join(',') ?? '-'}${(state as { seen?: boolean }).seen ? ' +seen' : ''}`), clear: () => saves.push('clear') },
  }).catch(() => {});
  // "look"'s finding goes out with the save before "a"; "exec" changes nothing, so it joins no journal.
  assert.equal(saves.slice(0, 6), ['save -', 'save a +seen', 'save a,b +seen', 'save a,b +seen', 'save a,b +seen', 'exec /bin/qemu']);
});

test('with the run directory store, a start writes the state file only when the state changed', async () => {
  const { stage } = recorder();
  const dir = mkdtempSync(`${tmpdir()}/startvm-pipeline-test-`);
  const store = savedStateStore(dir, memoryLogger(), () => 'ns');
  const writes: string[] = [];
  const inode = (): number | undefined => (existsSync(`${dir}/state.json`) ? statSync(`${dir}/state.json`).ino : undefined);
  const counting = { ...store, save(state: PipelineState) { const before = inode(); store.save(state); if (inode() !== before) writes.push(state.applied?.join(',') ?? '-'); } };
  const look: ResolvedStage = { enabled: true, options: {}, stage: { name: 'look', description: 'look', async apply(ctx) { (ctx.state as Record<string, unknown>).seen = true; } } };
  const quiet: ResolvedStage = { enabled: true, options: {}, stage: { name: 'quiet', description: 'quiet', async apply() {} } };
  await runPipeline({ ...base, log: memoryLogger(), stages: [look, stage('a'), quiet, stage('b')], persist: counting });
  rmSync(dir, { recursive: true, force: true });
  // Nothing before "look" (an empty state is no file), nothing for "quiet" nor at the end (unchanged).
  assert.equal(writes, ['a', 'a,b']);
});

test('json log lines are machine-readable', async () => {
  const { stage } = recorder();
  const log = memoryLogger('json');
  await runPipeline({ ...base, log, stages: [stage('a')] });
  const parsed = log.lines.map((l) => JSON.parse(l) as { stage?: string; event?: string; level: string });
  assert.equal(parsed.filter((p) => p.stage === 'a').map((p) => p.event), ['start', 'done']);
});

test.run();
