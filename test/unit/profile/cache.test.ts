// The profile cache keeps the parse of a profile's exact text. A hit must give back exactly what was
// stored; anything else (other text, another startvm version, a damaged file) must be a miss, never
// an error, and a store must never throw.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { profileCache } from '../../../src/profile/cache.ts';
import { version } from '../../../src/cli/version.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-cache-test-`);
let n = 0;
const freshDir = (): string => `${scratch}/cache-${n++}`;
const TEXT = 'version: 1\nvm:\n  memory: 2048\n';
const DATA = { version: 1, vm: { memory: 2048 } };

test('a stored parse comes back for the same text, in a new cache object too', () => {
  const dir = freshDir();
  assert.is(profileCache(dir).get(TEXT), undefined, 'empty cache: a miss');
  assert.ok(profileCache(dir).put(TEXT, DATA));
  assert.equal(profileCache(dir).get(TEXT), DATA);
  assert.equal(readdirSync(dir).length, 1, 'one file per profile text, no temporary left behind');
});

test('other text is a miss, even one character or a trailing newline apart', () => {
  const dir = freshDir();
  profileCache(dir).put(TEXT, DATA);
  for (const other of [TEXT.replace('2048', '2049'), `${TEXT}\n`, TEXT.trimEnd(), '']) assert.is(profileCache(dir).get(other), undefined, JSON.stringify(other));
});

test('an entry whose file name matches but whose text differs (a hash collision) is a miss', () => {
  const dir = freshDir();
  profileCache(dir).put(TEXT, DATA);
  const [file] = readdirSync(dir);
  const entry = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
  writeFileSync(`${dir}/${file}`, JSON.stringify({ ...entry, text: TEXT.replace('memory', 'memorz') }));
  assert.is(profileCache(dir).get(TEXT), undefined);
});

test('an entry written by another startvm version or cache format is a miss', () => {
  const dir = freshDir();
  profileCache(dir).put(TEXT, DATA);
  const [file] = readdirSync(dir);
  const entry = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
  assert.is(entry.startvm, version);
  writeFileSync(`${dir}/${file}`, JSON.stringify({ ...entry, startvm: '0.0.0-other' }));
  assert.is(profileCache(dir).get(TEXT), undefined, 'other version');
  writeFileSync(`${dir}/${file}`, JSON.stringify({ ...entry, format: entry.format + 1 }));
  assert.is(profileCache(dir).get(TEXT), undefined, 'other format');
});

test('a damaged entry is a miss, not an error', () => {
  const dir = freshDir();
  profileCache(dir).put(TEXT, DATA);
  const [file] = readdirSync(dir);
  for (const junk of ['', '{', 'null', '[]', '"text"']) {
    writeFileSync(`${dir}/${file}`, junk);
    assert.is(profileCache(dir).get(TEXT), undefined, JSON.stringify(junk));
  }
});

test('values JSON cannot hold (.inf, .nan) are not stored', () => {
  const dir = freshDir();
  assert.not.ok(profileCache(dir).put('a: .inf\n', { a: Infinity }));
  assert.not.ok(profileCache(dir).put('a: .nan\n', { a: [Number.NaN] }));
  assert.is(profileCache(dir).get('a: .inf\n'), undefined);
});

test('without a directory the cache is off: nothing stored, every get a miss', () => {
  const cache = profileCache(undefined);
  assert.not.ok(cache.put(TEXT, DATA));
  assert.is(cache.get(TEXT), undefined);
});

test('a directory that cannot be written: put says false and does not throw', () => {
  const file = `${scratch}/a-file`;
  writeFileSync(file, '');
  assert.not.ok(profileCache(`${file}/cache`).put(TEXT, DATA), 'below a regular file');
  if (process.getuid?.() !== 0) {
    const dir = freshDir();
    profileCache(dir).put('x: 1\n', { x: 1 });
    chmodSync(dir, 0o500);
    assert.not.ok(profileCache(dir).put(TEXT, DATA), 'read-only directory');
  }
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
