// Which YAML parses the trained cache keeps: every start with such a cache reads them all, so
// there is a limit, and only parses JSON gives back unchanged go in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PARSES_LIMIT, parsesToKeep } from '../../../src/warmup/code-cache.ts';
import { schemaChecked } from '../../../src/profile/check-data.ts';

const profile = (n: number, padding = 0) => ({ file: `p${n}.yaml`, text: `# ${'x'.repeat(padding)}\nversion: 1\nvm: { memory: ${256 + n} }\n` });

test('each distinct text once, with its data', () => {
  const { parsed, notes } = parsesToKeep([profile(1), profile(2), { ...profile(1), file: 'copy-of-p1.yaml' }]);
  assert.equal(parsed.map(({ text, data }) => ({ text, data })), [
    { text: profile(1).text, data: { version: 1, vm: { memory: 257 } } },
    { text: profile(2).text, data: { version: 1, vm: { memory: 258 } } },
  ]);
  assert.equal(notes, []);
  // With each, the checked form: the schema's defaults in, the stage entries expanded.
  assert.equal(parsed.map((p) => p.checked), parsed.map((p) => schemaChecked(p.data)));
  assert.is((parsed[0]!.checked!.vm as { cpus: number }).cpus, 1);
  const stages = parsed[0]!.checked!.stages as { stage: unknown; options: unknown }[];
  assert.ok(stages.length > 0 && stages.every((s) => typeof s.stage === 'string' && typeof s.options === 'object'), 'every stage entry an object with its options');
});

test('a profile the schema refuses keeps its parse without a checked form', () => {
  const { parsed } = parsesToKeep([{ file: 'bad.yaml', text: 'version: 1\nvm: { memory: lots }\n' }]);
  assert.equal(parsed, [{ text: 'version: 1\nvm: { memory: lots }\n', data: { version: 1, vm: { memory: 'lots' } } }]);
});

test('a parse JSON would change is left out, with one note per text', () => {
  const inf = { file: 'inf.yaml', text: 'version: 1\nx: .inf\n' };
  const aliased = { file: 'alias.yaml', text: 'version: 1\nvm: &v { memory: 256 }\nx: *v\n' };
  const { parsed, notes } = parsesToKeep([inf, profile(1), aliased, { ...inf, file: 'inf-again.yaml' }]);
  assert.equal(parsed.map((p) => p.text), [profile(1).text]);
  assert.equal(notes, [
    'inf.yaml: its YAML has aliases or values JSON cannot keep (.inf, .nan, -0, binary), so its starts parse the YAML',
    'alias.yaml: its YAML has aliases or values JSON cannot keep (.inf, .nan, -0, binary), so its starts parse the YAML',
  ]);
});

test('a parse whose checked form does not fit is kept without it, with a note', () => {
  // The checked form holds every default (some 700 bytes here): a text just under the limit fits
  // with its parse, not with that form too.
  const big = { file: 'big.yaml', text: `# ${'x'.repeat(PARSES_LIMIT - 450)}\nversion: 1\nvm: { memory: 256 }\n` };
  const { parsed, notes } = parsesToKeep([big]);
  assert.equal(parsed.map((p) => Object.keys(p)), [['text', 'data']]);
  assert.equal(notes, [`big.yaml: its checked form does not fit in the ${PARSES_LIMIT / 1024} KiB the cache keeps for parses, so its starts check its parse against the schema`]);
});

test('the parses stop at the limit; the profiles after it get a note', () => {
  const big = Math.floor(PARSES_LIMIT / 3);
  const { parsed, notes } = parsesToKeep([profile(1, big), profile(2, big), profile(3, big), profile(4, 10)]);
  assert.equal(parsed.map((p) => p.text), [profile(1, big).text, profile(2, big).text, profile(4, 10).text], 'a small one after a big one still fits');
  assert.ok(Buffer.byteLength(JSON.stringify(parsed)) <= PARSES_LIMIT);
  // Counted in bytes, as the file holds them: three bytes for each of these characters.
  const wide = { file: 'wide.yaml', text: `# ${'€'.repeat(PARSES_LIMIT / 2)}\nversion: 1\n` };
  assert.equal(parsesToKeep([wide]).parsed, [], 'half the limit in characters, one and a half times it in bytes');
  assert.equal(notes, [`p3.yaml: its parse does not fit in the ${PARSES_LIMIT / 1024} KiB the cache keeps for parses, so its starts parse the YAML`]);
});

test.run();
