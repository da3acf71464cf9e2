// checkProfile with a parse from before (the trained cache's): the YAML is skipped when the check
// finds nothing to report, and parsed after all when it does, so every problem still has its line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkProfile, parseForCache } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';

const { catalog } = builtinRegistry();
const FILE = '/etc/startvm/profile.yaml';
const TEXT = `version: 1
vm:
  memory: 256
  accel: tcg
stages: [capture, bridge, readdress, dhcp]
`;

/** A lookup that knows TEXT only, with the data it is given (a fresh copy each time, as the cache's). */
const knowing = (data: Record<string, unknown>) => {
  const calls: string[] = [];
  const lookup = (text: string) => {
    calls.push(text);
    return text === TEXT ? (JSON.parse(JSON.stringify(data)) as Record<string, unknown>) : undefined;
  };
  return { lookup, calls };
};

test('a known text gives the same profile as its YAML', () => {
  const { lookup, calls } = knowing(parseForCache(TEXT)!);
  const fromYaml = checkProfile(TEXT, FILE, { env: {}, catalog });
  const fromParse = checkProfile(TEXT, FILE, { env: {}, catalog, parsedBefore: lookup });
  assert.equal(fromParse, fromYaml);
  assert.equal(calls, [TEXT]);
});

test('the parse is what the check reads: the YAML is not parsed again', () => {
  // A parse that says otherwise than the text (never so in a real cache) shows which one was used.
  const { lookup } = knowing({ ...parseForCache(TEXT)!, vm: { memory: 1024, accel: 'tcg' } });
  const { profile, problems } = checkProfile(TEXT, FILE, { env: {}, catalog, parsedBefore: lookup });
  assert.equal(problems, []);
  assert.is(profile?.vm.memory, 1024);
});

test('env overrides apply to the parse as to the YAML', () => {
  const { lookup } = knowing(parseForCache(TEXT)!);
  const { profile } = checkProfile(TEXT, FILE, { env: { NO_DHCP: 'true' }, catalog, parsedBefore: lookup });
  assert.is(profile?.stages.find((s) => s.stage === 'dhcp')?.enabled, false);
});

test('a problem sends the check to the YAML: lines and columns as without the parse', () => {
  const { lookup } = knowing(parseForCache(TEXT)!);
  // An env value the schema refuses, and a profile that leaves the bridge out while dhcp needs it.
  for (const [text, env] of [
    [TEXT, { STARTVM_MEMORY: 'lots' }],
    [TEXT.replace('bridge, ', ''), {}],
  ] as const) {
    const withParse = checkProfile(text, FILE, { env, catalog, parsedBefore: lookup });
    assert.equal(withParse, checkProfile(text, FILE, { env, catalog }));
    assert.ok(withParse.problems.length > 0, `${text} with ${JSON.stringify(env)} has a problem`);
  }
  // A parse whose data has a problem the text does not have is not believed either.
  const { lookup: wrong } = knowing({ ...parseForCache(TEXT)!, vm: { memory: 'lots' } });
  assert.equal(checkProfile(TEXT, FILE, { env: {}, catalog, parsedBefore: wrong }), checkProfile(TEXT, FILE, { env: {}, catalog }));
});

test('an unknown text is parsed from its YAML', () => {
  const { lookup, calls } = knowing({ version: 1, vm: { memory: 1024 } });
  const other = TEXT.replace('memory: 256', 'memory: 384');
  assert.is(checkProfile(other, FILE, { env: {}, catalog, parsedBefore: lookup }).profile?.vm.memory, 384);
  assert.equal(calls, [other]);
});

test('parseForCache keeps what JSON gives back unchanged, and nothing else', () => {
  assert.equal(parseForCache(TEXT), { version: 1, vm: { memory: 256, accel: 'tcg' }, stages: ['capture', 'bridge', 'readdress', 'dhcp'] });
  assert.equal(parseForCache(''), {}, 'an empty file is the empty mapping, as the check reads it');
  for (const text of ['vm: { memory: .inf }\n', 'vm: { memory: .nan }\n', 'vm: { memory: -0 }\n', 'x: !!binary aGVsbG8=\n']) assert.is(parseForCache(text), undefined, text);
  for (const text of ['- capture\n', 'vm: [\n', 'a: 1\na: 2\n']) assert.is(parseForCache(text), undefined, `${text}: not a mapping, or YAML errors`);
});

test.run();
