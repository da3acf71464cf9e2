// The trained code cache, on an installed copy of the package (bin, dist and the shipped files, no
// sources), the way the image holds it: lint --cache trains it next to the bundle, a start loads it
// and V8 takes it, doctor says so, a start of a profile it was trained on takes that profile's parse
// from it, a profile's own stage module still loads, and a cache that does not belong to the bundle
// is refused without harm. Hermetic like the CLI tests: PATH has no ip,
// dnsmasq or QEMU, and only plan runs, on a profile whose one stage is a module.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { root } from '../../helpers/paths.ts';
import { imageNodeOptions } from '../../../bench/entrypoint.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-code-cache-test-`);
const app = `${scratch}/opt/startvm`;
mkdirSync(app, { recursive: true });
for (const entry of ['package.json', 'bin', 'dist', 'profiles', 'templates', 'schemas']) cpSync(`${root}${entry}`, `${app}/${entry}`, { recursive: true, filter: (f) => !f.endsWith('.codecache') });
const CACHE = `${app}/dist/startvm.cjs.codecache`;

// A profile whose simulated start reaches the hand-over (/bin/true stands in for QEMU: exec-kvm
// checks it is a runnable ELF), and one whose only stage is a module (announce.mjs).
writeFileSync(`${scratch}/vmlinuz`, 'kernel');
const FULL = `${scratch}/full.yaml`;
writeFileSync(FULL, `version: 1\nvm: { qemu: /bin/true, kernel: ${scratch}/vmlinuz, accel: tcg, display: none }\nstages: [capture, bridge, readdress, dhcp, exec-kvm]\n`);
const MODULE_ONLY = `${scratch}/module-only.yaml`;
writeFileSync(MODULE_ONLY, `version: 1\nstages:\n  - { stage: announce, module: ${root}test/fixtures/stages/announce.mjs, options: { greeting: hello } }\n`);
const BROKEN = `${scratch}/broken.yaml`;
writeFileSync(BROKEN, 'version: 1\nvm: { memory: lots }\n');

const startvm = (args: string[], env: NodeJS.ProcessEnv = {}, nodeOptions: readonly string[] = []) =>
  execa(process.execPath, [...nodeOptions, `${app}/bin/startvm`, ...args], { reject: false, env: { PATH: '/nonexistent', NO_COLOR: '1', STARTVM_RUN_DIR: `${scratch}/run`, ...env }, extendEnv: false });

async function codeCacheCheck(env: NodeJS.ProcessEnv = {}, nodeOptions: readonly string[] = [], profile = MODULE_ONLY): Promise<{ status: string; detail: string }> {
  const result = await startvm(['doctor', '--json', '--profile', profile], env, nodeOptions);
  return (JSON.parse(result.stdout) as { check: string; status: string; detail: string }[]).find((r) => r.check === 'code cache')!;
}

async function planModuleOnly(env: NodeJS.ProcessEnv = {}, greeting = 'hello'): Promise<void> {
  const plan = await startvm(['plan', '--json', '--profile', MODULE_ONLY], env);
  assert.is(plan.exitCode, 0, plan.stderr);
  const { stages } = JSON.parse(plan.stdout) as { stages: { stage: string; steps: string[] }[] };
  assert.equal(stages.map((s) => s.stage), ['announce']);
  assert.match(stages[0]!.steps[0]!, new RegExp(`^write "${greeting}" to `), 'the stage module was imported and planned');
}

/** The cache file's parts: the bundle's identity line, the parses line, V8's data. */
function cacheParts(file: string): { identity: string; parses: { text: string; data: Record<string, unknown> }[]; code: Buffer } {
  const data = readFileSync(file);
  const first = data.indexOf(10);
  const second = data.indexOf(10, first + 1);
  return { identity: data.toString('utf8', 0, first), parses: JSON.parse(data.toString('utf8', first + 1, second)), code: data.subarray(second + 1) };
}

test('untrained: doctor says there is no code cache, and everything works without it', async () => {
  assert.equal(await codeCacheCheck(), { check: 'code cache', status: 'warning', detail: `none at ${CACHE}: each start compiles startvm's code`, fix: `where the image is built: startvm lint --cache ${MODULE_ONLY}` } as never);
  await planModuleOnly();
});

test('lint --cache trains the cache next to the bundle; the next start loads it, and module stages still load', async () => {
  const lint = await startvm(['lint', '--cache', FULL]);
  assert.is(lint.exitCode, 0, lint.stderr);
  assert.is(lint.stderr, '', 'the simulated start reached the hand-over: no note, no warning');
  assert.ok(statSync(CACHE).size > 100_000, 'compiled functions, not just the top level');
  const id = readFileSync(`${app}/dist/startvm.cjs.sha256`, 'utf8').trim();
  const { identity, parses } = cacheParts(CACHE);
  assert.is(identity, JSON.stringify({ bundle: id, format: 2 }), 'made from this bundle (the build\'s SHA-256 of it), in this layout');
  assert.equal(parses.map((p) => p.text), [readFileSync(FULL, 'utf8')], 'the parse of the profile it was trained on');
  assert.equal(await codeCacheCheck({}, [], FULL), { check: 'code cache', status: 'ok', detail: `compiled code from ${CACHE}, and the parse of ${FULL}` } as never);
  assert.equal(await codeCacheCheck(), { check: 'code cache', status: 'ok', detail: `compiled code from ${CACHE}; it has no parse of ${MODULE_ONLY} (a profile it was not trained on, or one whose parse lint --cache left out, see its notes), so each start parses its YAML (where the image is built: startvm lint --cache ${MODULE_ONLY} adds it)` } as never);
  // The bundle runs through vm.Script now: its import() of a stage module goes through bin/startvm.
  await planModuleOnly();
});

test("with the image's Node options (the Dockerfile ENTRYPOINT's --no-rehash-snapshot, a V8 flag) V8 still takes the cache", async () => {
  // bin/startvm puts the flag back to its default once the isolate exists: otherwise V8's flag hash
  // would differ from the training run's, and V8 would refuse the cache (and Node's own for its modules).
  assert.ok(imageNodeOptions().includes('--no-rehash-snapshot'));
  const check = await codeCacheCheck({}, imageNodeOptions(), FULL);
  assert.equal(check, { check: 'code cache', status: 'ok', detail: `compiled code from ${CACHE}, and the parse of ${FULL}` } as never);
  const plan = await startvm(['plan', '--json', '--profile', MODULE_ONLY], {}, imageNodeOptions());
  assert.is(plan.exitCode, 0, plan.stderr);
  assert.not.match(plan.stderr, /Warning|DEP0111/, 'no warning from Node');
});

test("a start of a profile the cache was trained on takes the profile's parse from it; another text is parsed", async () => {
  const env = { STARTVM_CODE_CACHE: `${scratch}/parses.codecache` };
  const lint = await startvm(['lint', '--cache', FULL, MODULE_ONLY], env);
  assert.is(lint.exitCode, 0, lint.stderr);
  await planModuleOnly(env);
  assert.equal((await codeCacheCheck(env)).detail, `compiled code from ${env.STARTVM_CODE_CACHE}, and the parse of ${MODULE_ONLY}`);
  // Change the greeting in the cache's parse only (a cache lint --cache wrote never disagrees with
  // its text): the plan shows the cache's, so the start read the parse and not the YAML; doctor,
  // which parses the YAML too, calls the difference an error.
  const { identity, parses, code } = cacheParts(env.STARTVM_CODE_CACHE);
  assert.equal(parses.map((p) => p.text), [readFileSync(FULL, 'utf8'), readFileSync(MODULE_ONLY, 'utf8')]);
  const edited = parses.map((p) => (p.text.includes('announce') ? JSON.parse(JSON.stringify(p).replaceAll('"hello"', '"from the cache"')) : p));
  writeFileSync(env.STARTVM_CODE_CACHE, Buffer.concat([Buffer.from(`${identity}\n${JSON.stringify(edited)}\n`), code]));
  await planModuleOnly(env, 'from the cache');
  const differs = await codeCacheCheck(env);
  assert.is(differs.status, 'error');
  assert.match(differs.detail, /holds a parse of .*module-only\.yaml that differs from the file's YAML/);
  // One more comment line makes another text: parsed from the YAML, the cache's parse unused.
  const text = readFileSync(MODULE_ONLY, 'utf8');
  try {
    writeFileSync(MODULE_ONLY, `# edited\n${text}`);
    await planModuleOnly(env);
  } finally {
    writeFileSync(MODULE_ONLY, text);
  }
  // A parses line that is not what the training wrote: no parse is used, and the start goes on.
  const moduleOnly = JSON.stringify(readFileSync(MODULE_ONLY, 'utf8'));
  for (const line of ['{"not": "a list"', '{"not": "a list"}', '[null, 7]', `[{"text": ${moduleOnly}, "data": []}]`]) {
    writeFileSync(env.STARTVM_CODE_CACHE, Buffer.concat([Buffer.from(`${identity}\n${line}\n`), code]));
    await planModuleOnly(env);
    assert.match((await codeCacheCheck(env)).detail, /it has no parse of/, line);
  }
  // One this build's check refuses (or cannot take at all): the YAML decides; doctor warns that it differs.
  for (const data of ['{"stages": 7}', '{"stages": [{"stage": {"no": "name"}}]}']) {
    writeFileSync(env.STARTVM_CODE_CACHE, Buffer.concat([Buffer.from(`${identity}\n[{"text": ${moduleOnly}, "data": ${data}}]\n`), code]));
    await planModuleOnly(env);
    const check = await codeCacheCheck(env);
    assert.is(check.status, 'warning', data);
    assert.match(check.detail, /differs from the file's YAML \(starts do not take it: it does not check clean\)/, data);
  }
});

test('a cache from another build of the same length is refused (V8 alone would take it), and starts still work', async () => {
  // What a rebuild that changed one character would leave: another bundle of the same length, and its hash.
  const bundle = `${app}/dist/startvm.cjs`;
  const text = readFileSync(bundle, 'utf8');
  const edited = text.replace('the pipeline ended without a hand-over stage', 'the pipeline ended without a hand-over stagE');
  assert.is.not(edited, text);
  assert.is(edited.length, text.length);
  writeFileSync(bundle, edited);
  writeFileSync(`${bundle}.sha256`, `${createHash('sha256').update(edited).digest('hex')}\n`);
  assert.match((await codeCacheCheck()).detail, /was made from another build of startvm/);
  await planModuleOnly();
  writeFileSync(CACHE, 'not a code cache at all');
  assert.match((await codeCacheCheck()).detail, /was made from another build of startvm/);
  const version = await startvm(['--version']);
  assert.is(version.exitCode, 0, version.stderr);
});

test('a cache V8 refuses (other V8 flags, here through NODE_OPTIONS) is reported, and the start goes on without it', async () => {
  const lint = await startvm(['lint', '--cache', FULL], { NODE_OPTIONS: '--max-old-space-size=300', STARTVM_CODE_CACHE: `${scratch}/flags.codecache` });
  assert.is(lint.exitCode, 0, lint.stderr);
  const env = { STARTVM_CODE_CACHE: `${scratch}/flags.codecache` };
  assert.equal((await codeCacheCheck(env)).status, 'ok', 'trained without the parent\'s NODE_OPTIONS, so a plain start takes it');
  const refused = await codeCacheCheck({ ...env, NODE_OPTIONS: '--max-old-space-size=300' });
  assert.is(refused.status, 'warning');
  assert.match(refused.detail, /^V8 refused .*other V8 flags \(NODE_OPTIONS\?\)/);
  await planModuleOnly({ ...env, NODE_OPTIONS: '--max-old-space-size=300' });
});

test('only lint --cache writes a cache: another command run with the training variable leaves it alone', async () => {
  const env = { STARTVM_CODE_CACHE: `${scratch}/flags.codecache` };
  const before = readFileSync(env.STARTVM_CODE_CACHE);
  for (const args of [['--version'], ['doctor', '--profile', MODULE_ONLY]]) {
    const result = await startvm(args, { ...env, STARTVM_CODE_CACHE_TRAINING: '1' });
    assert.ok(result.exitCode === 0 || args[0] === 'doctor', `${args.join(' ')}: ${result.stderr}`);
  }
  assert.ok(readFileSync(env.STARTVM_CODE_CACHE).equals(before), 'the trained cache is unchanged');
});

test('a code cache that cannot be read is reported with the reason', async () => {
  const check = await codeCacheCheck({ STARTVM_CODE_CACHE: scratch });
  assert.is(check.status, 'warning');
  assert.match(check.detail, /^cannot read .* \(EISDIR\)/);
});

test('lint --cache fails (exit 1) when it cannot train: nowhere to write, or no profile without errors', async () => {
  const unwritable = await startvm(['lint', '--cache', FULL], { STARTVM_CODE_CACHE: `${FULL}/below-a-file/startvm.codecache` });
  assert.is(unwritable.exitCode, 1);
  assert.match(unwritable.stderr, /cannot write the code cache .*below-a-file/);
  assert.match(unwritable.stderr, /the code cache was not trained \(the training run exited with 1\)/);
  const broken = await startvm(['lint', '--cache', BROKEN], { STARTVM_CODE_CACHE: `${scratch}/other.codecache` });
  assert.is(broken.exitCode, 1);
  assert.match(broken.stdout, /memory/, 'the lint report still comes');
  assert.match(broken.stderr, /the code cache was not trained \(no profile without errors to train on\)/);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
