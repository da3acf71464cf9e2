// The logger's way to stderr (src/engine/logger.ts): the lines of one burst in one write, in order,
// at the next turn of the event loop or at once when flushed; and a start's last lines before the
// exec are written (the netns hand-over test sees them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { batched, isoTime } from '../../../src/engine/logger.ts';
import { root } from '../../helpers/paths.ts';

test('isoTime is Date#toISOString: every day from 1970 to 2110 at a random time, leap days, and the edges', () => {
  const at = (ms: number) => assert.is(isoTime(ms), new Date(ms).toISOString(), String(ms));
  for (let day = 0; day < 51_500; day++) at(day * 86_400_000 + Math.floor(Math.random() * 86_400_000));
  for (const iso of ['1970-01-01T00:00:00.000Z', '2000-02-29T23:59:59.999Z', '2024-12-31T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) at(Date.parse(iso));
});

test('batched: the lines of one burst go out together at the next turn, in order', async () => {
  const writes: string[] = [];
  const out = batched((text) => void writes.push(text));
  out.write('one\n');
  out.write('two\n');
  assert.equal(writes, [], 'nothing yet: the burst is not over');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes, ['one\ntwo\n']);
  out.write('three\n');
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(writes, ['one\ntwo\n', 'three\n'], 'a later burst: a write of its own');
});

test('batched: flush writes at once, and nothing twice', async () => {
  const writes: string[] = [];
  const out = batched((text) => void writes.push(text));
  out.write('before the exec\n');
  out.flush();
  assert.equal(writes, ['before the exec\n']);
  out.flush();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes, ['before the exec\n']);
});

test('the default logger writes what it logged before the process exits, in order, without waiting for a turn', () => {
  const script = `import { createLogger } from '${root}src/engine/logger.ts';
const log = createLogger({ format: 'text', color: false });
log.info('first'); log.warn('second');
process.exit(3);`;
  let stderr = '';
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    stderr = (error as { stderr: string }).stderr;
  }
  assert.is(stderr, 'startvm: first\nstartvm: warn: second\n');
});

test("lines logged in the turn of an uncaught error still come out, before Node's report of it", () => {
  const script = `import { createLogger } from '${root}src/engine/logger.ts';
const log = createLogger({ format: 'text', color: false });
setTimeout(() => {
  log.info('logged first');
  throw new Error('boom'); // in the same turn: the batch is not written yet
});`;
  let stderr = '';
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    stderr = (error as { stderr: string }).stderr;
  }
  assert.ok(stderr.startsWith('startvm: logged first\n'), stderr);
  assert.match(stderr, /Error: boom/);
});

test('a reader of stderr that has gone away (EPIPE) does not fail the process that logs', async () => {
  const script = `import { createLogger } from '${root}src/engine/logger.ts';
const log = createLogger({ format: 'text', color: false });
setTimeout(() => { log.info('nobody reads this'); setTimeout(() => process.stdout.write('still here'), 20); }, 200);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.destroy(); // the reader goes away before the line is written
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.is(code, 0);
  assert.is(stdout, 'still here');
});

test.run();
