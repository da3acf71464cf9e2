// The state saved in the run directory for re-entry: read back only in the namespace that wrote it,
// written atomically, and not rewritten when nothing changed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { savedStateStore } from '../../../src/engine/saved-state.ts';
import { memoryLogger } from '../../../src/engine/logger.ts';
import { UserError } from '../../../src/engine/errors.ts';
import type { PipelineState } from '../../../src/engine/state.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-state-test-`);
let n = 0;
const runDir = (): string => mkdtempSync(`${scratch}/run-${n++}-`);
const STATE = { applied: ['bridge'], captured: { interfaces: [], resolver: { nameservers: [], search: [], options: [] }, hostname: 'vm', hosts: '' } } as unknown as PipelineState;

test('what one start saves, the next start in the same namespace loads', () => {
  const dir = runDir();
  savedStateStore(dir, memoryLogger(), () => 'ns-1').save(STATE);
  const log = memoryLogger();
  assert.equal(savedStateStore(dir, log, () => 'ns-1').load(), STATE);
  assert.ok(log.lines.some((l) => l.includes('re-entry')));
  assert.is(statSync(`${dir}/state.json`).mode & 0o777, 0o600, 'private');
  assert.not.ok(existsSync(`${dir}/state.json.tmp`));
});

test('state saved in another network namespace is ignored and removed', () => {
  const dir = runDir();
  savedStateStore(dir, memoryLogger(), () => 'ns-1').save(STATE);
  const log = memoryLogger();
  assert.equal(savedStateStore(dir, log, () => 'ns-2').load(), {});
  assert.ok(log.lines.some((l) => l.includes('another network namespace')));
  assert.not.ok(existsSync(`${dir}/state.json`));
});

test('an unreadable state file stops the start instead of guessing', () => {
  const dir = runDir();
  writeFileSync(`${dir}/state.json`, '{ half a fi');
  assert.throws(() => savedStateStore(dir, memoryLogger(), () => 'ns-1').load(), (error: unknown) => error instanceof UserError && /cannot read the saved state/.test((error as Error).message));
});

test('a save with nothing changed does not rewrite the file; a change does', () => {
  const dir = runDir();
  const store = savedStateStore(dir, memoryLogger(), () => 'ns-1');
  const state = structuredClone(STATE);
  store.save(state);
  const first = statSync(`${dir}/state.json`).ino;
  store.save(state);
  assert.is(statSync(`${dir}/state.json`).ino, first, 'same file: not replaced');
  state.applied = ['bridge', 'readdress'];
  store.save(state);
  assert.is.not(statSync(`${dir}/state.json`).ino, first, 'replaced (a new file)');
  assert.equal(JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')).state.applied, ['bridge', 'readdress']);
  store.clear();
  assert.not.ok(existsSync(`${dir}/state.json`));
  store.save(state);
  assert.ok(existsSync(`${dir}/state.json`), 'after clear, the same state is written again');
});

test('a save stopped between removing the old file and renaming the new one: the whole new one is read', () => {
  const dir = runDir();
  savedStateStore(dir, memoryLogger(), () => 'ns-1').save(STATE);
  renameSync(`${dir}/state.json`, `${dir}/state.json.tmp`); // what such a kill leaves
  const log = memoryLogger();
  const store = savedStateStore(dir, log, () => 'ns-1');
  assert.equal(store.load(), STATE);
  assert.ok(log.lines.some((l) => l.includes('state.json.tmp')));
  // Back in place at once: the next save starts by removing state.json.tmp, which must not be the only copy.
  assert.ok(existsSync(`${dir}/state.json`));
  assert.not.ok(existsSync(`${dir}/state.json.tmp`));
  store.save({ ...STATE, applied: ['bridge', 'readdress'] });
  assert.equal(savedStateStore(dir, memoryLogger(), () => 'ns-1').load(), { ...STATE, applied: ['bridge', 'readdress'] });
});

test('clear removes a leftover state.json.tmp too', () => {
  const dir = runDir();
  const store = savedStateStore(dir, memoryLogger(), () => 'ns-1');
  store.save(STATE);
  writeFileSync(`${dir}/state.json.tmp`, '{}');
  store.clear();
  assert.equal(readdirSync(dir), []);
});

test('an unreadable state file written before this machine started is from another boot: ignored', () => {
  const dir = runDir();
  writeFileSync(`${dir}/state.json`, ''); // what a host crash can leave
  utimesSync(`${dir}/state.json`, 1, 1);
  const log = memoryLogger();
  assert.equal(savedStateStore(dir, log, () => 'ns-1').load(), {});
  assert.ok(log.lines.some((l) => l.includes('written before this machine started')));
  assert.not.ok(existsSync(`${dir}/state.json`));
});

test('half a first save is nothing saved; half a later save leaves the earlier state in force', () => {
  const dir = runDir();
  writeFileSync(`${dir}/state.json.tmp`, '{ "namespace": "ns-1", "sta');
  assert.equal(savedStateStore(dir, memoryLogger(), () => 'ns-1').load(), {});
  assert.not.ok(existsSync(`${dir}/state.json.tmp`), 'removed');
  savedStateStore(dir, memoryLogger(), () => 'ns-1').save(STATE);
  writeFileSync(`${dir}/state.json.tmp`, '{ "namespace": "ns-1", "sta');
  assert.equal(savedStateStore(dir, memoryLogger(), () => 'ns-1').load(), STATE);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
