// Stages are registered by name, explicitly; stages from modules plug in through the profile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { StageRegistry } from '../../../src/engine/registry.ts';
import { resolveStages } from '../../../src/engine/resolve.ts';
import { runPipeline } from '../../../src/engine/pipeline.ts';
import { memoryLogger } from '../../../src/engine/logger.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { checkProfile } from '../../../src/profile/check.ts';
import { fixture } from '../../helpers/paths.ts';

test('the built-in registry lists the five stages, sorted', () => {
  assert.equal(builtinRegistry().names(), ['bridge', 'capture', 'dhcp', 'exec-kvm', 'readdress']);
});

test('registering a name twice is refused', () => {
  const registry = new StageRegistry();
  const stage = { name: 'x', description: 'x', async apply() {} };
  registry.register(stage);
  assert.throws(() => registry.register(stage), /already registered/);
});

const profileWith = (stageEntry: string) => {
  const file = fixture('stages/profile.yaml');
  const result = checkProfile(`version: 1\nstages:\n  - ${stageEntry}\n`, file, { env: {}, catalog: builtinRegistry().catalog });
  assert.equal(result.problems, []);
  return result.profile!;
};

test('a stage module from a test folder loads, gets validated options with defaults, runs and rolls back', async () => {
  const runDir = mkdtempSync(`${tmpdir()}/startvm-test-`);
  try {
    const profile = profileWith('{stage: announce, module: ./announce.mjs, options: {greeting: hello}}');
    const stages = await resolveStages(profile, builtinRegistry(), fixture('stages'));
    assert.equal(stages[0]?.options, { greeting: 'hello', fail: false });
    await runPipeline({ stages, profile, profileDir: fixture('stages'), runDir, env: {}, log: memoryLogger(), run: async () => ({ stdout: '', stderr: '', exitCode: 0 }) });
    assert.is(readFileSync(`${runDir}/announce.txt`, 'utf8'), 'hello');

    const failing = profileWith('{stage: announce, module: ./announce.mjs, options: {greeting: bye, fail: true}}');
    const error = await runPipeline({ stages: await resolveStages(failing, builtinRegistry(), fixture('stages')), profile: failing, profileDir: fixture('stages'), runDir, env: {}, log: memoryLogger(), run: async () => ({ stdout: '', stderr: '', exitCode: 0 }) }).catch((e: Error) => e);
    assert.is((error as Error).message, 'stage "announce" failed: announce was told to fail');
    assert.not.ok(existsSync(`${runDir}/announce.txt`), 'its rollback ran');
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
});

test("a module stage's options are checked by its own schema", async () => {
  const profile = profileWith('{stage: announce, module: ./announce.mjs, options: {greting: hello}}');
  const error = await resolveStages(profile, builtinRegistry(), fixture('stages')).catch((e: Error) => e);
  assert.match((error as Error).message, /^stage "announce" failed during load: invalid options for stage "announce": options must have required property 'greeting'/);
});

test('a module whose stage has another name is refused', async () => {
  const profile = profileWith('{stage: greet, module: ./announce.mjs, options: {greeting: hi}}');
  const error = await resolveStages(profile, builtinRegistry(), fixture('stages')).catch((e: Error) => e);
  assert.match((error as Error).message, /exports stage "announce", but the profile calls it "greet"/);
});

test.run();
