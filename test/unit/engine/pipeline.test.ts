// The pipeline runner: order, rollback in reverse when a stage fails or a signal arrives, the
// hand-over, and state saved for re-entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runPipeline } from '../../../src/engine/pipeline.ts';
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
    persist: { save: () => saves.push('save'), clear: () => saves.push('clear') },
  }).catch((e: unknown) => e);
  assert.instance(error, StageError);
  assert.is((error as StageError).stage, 'c');
  assert.is((error as Error).message, 'stage "c" failed: c broke');
  assert.equal(events, ['apply a', 'apply b', 'apply c', 'rollback c', 'rollback b', 'rollback a']);
  assert.equal(saves, ['save', 'save', 'clear']);
});

test('a failing rollback does not stop the others, and keeps the saved state for the next start', async () => {
  const { events, stage } = recorder();
  const saves: string[] = [];
  const log = memoryLogger();
  await runPipeline({ ...base, log, stages: [stage('a'), stage('b', { rollbackFails: true }), stage('c', { fail: true })], persist: { save: () => saves.push('save'), clear: () => saves.push('clear') } }).catch(() => {});
  assert.equal(events, ['apply a', 'apply b', 'apply c', 'rollback c', 'rollback b', 'rollback a']);
  assert.ok(log.lines.some((l) => l.includes('rollback of stage "b" failed: b rollback broke')));
  assert.equal(saves, ['save', 'save', 'save']);
});

test('SIGTERM mid-pipeline: the running stage is aborted, everything rolls back, nothing after it runs', async () => {
  const { events, stage } = recorder();
  const error = await runPipeline({ ...base, log: memoryLogger(), stages: [stage('a'), stage('b', { waitForAbort: true }), stage('c')] }).catch((e: unknown) => e);
  assert.instance(error, InterruptedError);
  assert.is((error as InterruptedError).signalName, 'SIGTERM');
  assert.equal(events, ['apply a', 'apply b', 'aborted b', 'rollback b', 'rollback a']);
  assert.is(process.listenerCount('SIGTERM'), 0, 'signal handlers are removed afterwards');
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

test('json log lines are machine-readable', async () => {
  const { stage } = recorder();
  const log = memoryLogger('json');
  await runPipeline({ ...base, log, stages: [stage('a')] });
  const parsed = log.lines.map((l) => JSON.parse(l) as { stage?: string; event?: string; level: string });
  assert.equal(parsed.filter((p) => p.stage === 'a').map((p) => p.event), ['start', 'done']);
});

test.run();
