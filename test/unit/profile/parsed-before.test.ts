// A profile checked from a parse made before (the trained cache's): the same profile as from its
// YAML when the check finds nothing to report, and nothing when it does, so that the caller parses
// the YAML for the lines and columns of the problems. That path needs no YAML library.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkProfile, parseForCache } from '../../../src/profile/check.ts';
import { profileFromParse, schemaChecked } from '../../../src/profile/check-data.ts';
import { profileFromChecked, takesChecked } from '../../../src/profile/checked.ts';
import { checkProfileText } from '../../../src/profile/check-text.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { staticImports } from '../../helpers/imports.ts';

const { catalog } = builtinRegistry();
const FILE = '/etc/startvm/profile.yaml';
const TEXT = `version: 1
vm:
  memory: 256
  accel: tcg
stages: [capture, bridge, readdress, dhcp]
`;

/** The parse as the cache gives it: a fresh copy each time (the check changes what it is given). */
const parse = (data: Record<string, unknown> = parseForCache(TEXT)!) => JSON.parse(JSON.stringify(data)) as Record<string, unknown>;

test('a parse gives the same profile as its YAML', () => {
  const fromYaml = checkProfile(TEXT, FILE, { env: {}, catalog });
  assert.equal(fromYaml.problems, []);
  assert.equal(profileFromParse(parse(), FILE, { env: {}, catalog }), fromYaml.profile);
});

test('the parse is what is checked, not the text', () => {
  // A parse that says otherwise than the text (never so in a real cache) shows which one was read.
  const profile = profileFromParse(parse({ ...parseForCache(TEXT)!, vm: { memory: 1024, accel: 'tcg' } }), FILE, { env: {}, catalog });
  assert.is(profile?.vm.memory, 1024);
});

test('env overrides apply to the parse as to the YAML', () => {
  const profile = profileFromParse(parse(), FILE, { env: { NO_DHCP: 'true' }, catalog });
  assert.equal(profile, checkProfile(TEXT, FILE, { env: { NO_DHCP: 'true' }, catalog }).profile);
  assert.is(profile?.stages.find((s) => s.stage === 'dhcp')?.enabled, false);
});

test('any problem gives no profile: the caller parses the YAML to place it', () => {
  // An env value the schema refuses; dhcp without the bridge it needs; a parse with a bad value.
  const cases = [
    { data: parse(), env: { STARTVM_MEMORY: 'lots' } },
    { data: parse(parseForCache(TEXT.replace('bridge, ', ''))!), env: {} },
    { data: parse({ ...parseForCache(TEXT)!, vm: { memory: 'lots' } }), env: {} },
  ];
  for (const { data, env } of cases) assert.is(profileFromParse(data, FILE, { env, catalog }), undefined, JSON.stringify({ data, env }));
  const failed = checkProfile(TEXT.replace('bridge, ', ''), FILE, { env: {}, catalog });
  assert.ok(failed.problems.length > 0 && failed.problems.every((p) => p.line > 0), 'the YAML path places each problem on its line');
});

test("checkProfileText, a start's check: the parse when it checks clean, else the YAML", async () => {
  assert.equal(await checkProfileText(TEXT, FILE, { env: {}, catalog }, { data: parse() }), checkProfile(TEXT, FILE, { env: {}, catalog }));
  const fromParse = await checkProfileText(TEXT, FILE, { env: {}, catalog }, { data: parse({ ...parseForCache(TEXT)!, vm: { memory: 1024 } }) });
  assert.is(fromParse.profile?.vm.memory, 1024, 'the parse was taken');
  // No parse, a parse with a problem, a parse the check throws on: the YAML's result, problems placed.
  const broken = TEXT.replace('bridge, ', '');
  const throwing = Object.defineProperty({}, 'stages', { enumerable: true, get: () => { throw new Error('not a parse this build makes'); } });
  for (const data of [undefined, parse({ version: 1, vm: { memory: 'lots' } }), throwing]) {
    assert.equal(await checkProfileText(broken, FILE, { env: {}, catalog }, data && { data }), checkProfile(broken, FILE, { env: {}, catalog }));
  }
});

test('the checked form: the same profile as the YAML without env overrides; with any override set, the parse goes through the schema', async () => {
  const checked = schemaChecked(parse())!;
  assert.ok(checked, 'the schema takes it');
  assert.equal(profileFromChecked(structuredClone(checked), FILE, catalog), checkProfile(TEXT, FILE, { env: {}, catalog }).profile);
  assert.is(takesChecked({ data: parse(), checked }, {}), true);
  assert.is(takesChecked({ data: parse(), checked }, { NO_DHCP: 'true' }), false, 'an override: not for this form');
  assert.is(takesChecked({ data: parse(), checked }, { STARTVM_MEMORY: '' }), false, 'set, even empty');
  assert.is(takesChecked({ data: parse(), checked }, { STARTVM_LOG_FORMAT: 'json', STARTVM_RUN_DIR: '/run/x', PATH: '/bin' }), true, 'variables that are not profile values do not count');
  assert.is(takesChecked({ data: parse() }, {}), false, 'no checked form kept');
  // Which of the two a start took shows where they disagree (never so in a cache lint --cache wrote).
  const known = { data: parse(), checked: { ...structuredClone(checked), vm: { ...(checked.vm as object), memory: 2048 } } };
  assert.is((await checkProfileText(TEXT, FILE, { env: {}, catalog }, structuredClone(known))).profile?.vm.memory, 2048, 'no override: the checked form');
  const overridden = await checkProfileText(TEXT, FILE, { env: { NO_DHCP: 'true' }, catalog }, structuredClone(known));
  assert.is(overridden.profile?.vm.memory, 256, 'an override: the parse, through the schema');
  assert.is(overridden.profile?.stages.find((s) => s.stage === 'dhcp')?.enabled, false);
  // The profile's own rules still run on the checked form: an initrd without a kernel is a problem,
  // and then the start goes to the YAML (for the problem's line), not to the parse.
  const initrdAlone = { ...structuredClone(checked), vm: { ...(checked.vm as object), initrd: '/var/lib/startvm/initrd.gz' } };
  assert.is(profileFromChecked(structuredClone(initrdAlone), FILE, catalog), undefined);
  const withProblem = await checkProfileText(TEXT, FILE, { env: {}, catalog }, { data: parse({ ...parseForCache(TEXT)!, vm: { memory: 1024 } }), checked: initrdAlone });
  assert.equal(withProblem, checkProfile(TEXT, FILE, { env: {}, catalog }), 'the YAML decides, not the parse (which says 1024)');
});

test('neither the check of a parse nor the commands that start from one load the YAML library on their own, nor the checked form the validator', async () => {
  for (const entry of ['src/profile/check-data.ts', 'src/profile/check-text.ts', 'src/cli/run.ts', 'src/cli/plan.ts']) {
    const imports = await staticImports(entry);
    assert.ok(imports.some((file) => file.endsWith('src/profile/env.ts')), `${entry}: the walk follows the imports`);
    assert.equal(imports.filter((file) => file.includes('node_modules/yaml/')), [], entry);
  }
  for (const entry of ['src/profile/check-text.ts', 'src/cli/run.ts']) {
    assert.equal((await staticImports(entry)).filter((file) => file.includes('profile-validator') || file.includes('node_modules/ajv/')), [], entry);
  }
  assert.ok((await staticImports('src/profile/check.ts')).some((file) => file.includes('node_modules/yaml/')), 'the walk would see it');
  assert.ok((await staticImports('src/profile/check-data.ts')).some((file) => file.includes('profile-validator')), 'and the validator');
});

test('parseForCache keeps what JSON gives back unchanged, and nothing else', () => {
  assert.equal(parseForCache(TEXT), { version: 1, vm: { memory: 256, accel: 'tcg' }, stages: ['capture', 'bridge', 'readdress', 'dhcp'] });
  assert.equal(parseForCache(''), {}, 'an empty file is the empty mapping, as the check reads it');
  for (const text of ['vm: { memory: .inf }\n', 'vm: { memory: .nan }\n', 'vm: { memory: -0 }\n', 'x: !!binary aGVsbG8=\n']) assert.is(parseForCache(text), undefined, text);
  // Aliases: the YAML's data shares what JSON would copy (and a cycle would not go into JSON at all).
  for (const text of ['vm: &v { memory: 256 }\nx: *v\n', 'x: &o { self: *o }\n']) assert.is(parseForCache(text), undefined, text);
  for (const text of ['- capture\n', 'vm: [\n', 'a: 1\na: 2\n']) assert.is(parseForCache(text), undefined, `${text}: not a mapping, or YAML errors`);
});

test.run();
