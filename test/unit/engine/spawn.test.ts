// Child processes on Node's own handles, and the node:child_process fallback: real programs, the
// same behaviour from both (the fallback is what a Node.js without the handles gets).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isatty } from 'node:tty';
import { loadHandles, isTerminal } from '../../../src/engine/node-handles.ts';
import { spawnChild, spawnWithChildProcess, spawnWithHandles, type Child, type ChildEnd, type Spawn } from '../../../src/engine/spawn.ts';
import { ABORT_GRACE_MS, ABORT_OUTPUT_WAIT_MS, commandRunner } from '../../../src/engine/command.ts';

interface Outcome extends ChildEnd {
  stdout: string;
  stderr: string;
}

function collect(child: Child): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.onStdout((text) => void (stdout += text));
  child.onStderr((text) => void (stderr += text));
  return new Promise((resolve) => child.onClose((end) => resolve({ ...end, stdout, stderr })));
}

const sh = (spawn: Spawn, script: string, options?: Parameters<Spawn>[2]): Promise<Outcome> => collect(spawn('/bin/sh', ['-c', script], options));

test('the Node.js that startvm brings has the handles, so starts spawn without node:child_process', () => {
  assert.ok(loadHandles(), 'process_wrap/pipe_wrap/stream_wrap in the expected shape');
});

for (const [name, spawn] of [['handles', spawnWithHandles], ['node:child_process', spawnWithChildProcess]] as const) {
  test(`${name}: stdout, stderr and the exit code`, async () => {
    const outcome = await sh(spawn, 'echo out; echo err >&2; exit 3');
    assert.equal(outcome, { exitCode: 3, signal: undefined, stdout: 'out\n', stderr: 'err\n' });
  });

  test(`${name}: text written to stdin, then its end`, async () => {
    const child = spawn('/bin/cat', [], { stdin: 'pipe' });
    const outcome = collect(child);
    child.write('first line\n');
    child.write('second line\n');
    child.end();
    assert.equal((await outcome).stdout, 'first line\nsecond line\n');
  });

  test(`${name}: stdin is /dev/null unless asked for`, async () => {
    assert.is((await sh(spawn, 'cat; echo done')).stdout, 'done\n');
  });

  test(`${name}: a character split between two reads stays whole; a megabyte arrives complete`, async () => {
    assert.is((await sh(spawn, "printf '\\303'; sleep 0.05; printf '\\251\\n'")).stdout, 'é\n');
    const big = await sh(spawn, 'head -c 1048576 /dev/zero | tr "\\0" a');
    assert.is(big.stdout.length, 1048576);
  });

  test(`${name}: the environment given, and only it`, async () => {
    const outcome = await sh(spawn, 'echo "$GREETING/${HOME:-none}"', { env: { GREETING: 'hello', PATH: process.env.PATH } });
    assert.is(outcome.stdout, 'hello/none\n');
  });

  test(`${name}: a program that does not exist ends with the reason, asynchronously`, async () => {
    let returned = false;
    let returnedBeforeTheEnd: boolean | undefined;
    const child = spawn('/nonexistent/program', ['x']);
    child.onClose(() => void (returnedBeforeTheEnd = returned));
    const outcome = collect(child);
    returned = true;
    const end = await outcome;
    assert.is(returnedBeforeTheEnd, true, 'the end came after spawn returned');
    assert.is(end.exitCode, undefined);
    assert.is(end.error?.code, 'ENOENT');
    assert.match(end.error!.message, /^spawn \/nonexistent\/program ENOENT/);
  });

  test(`${name}: kill ends it with the signal; writes after its end are dropped`, async () => {
    const child = spawn('/bin/sleep', ['5'], { stdin: 'pipe' });
    const outcome = collect(child);
    child.kill('SIGKILL');
    const end = await outcome;
    assert.equal([end.exitCode, end.signal], [undefined, 'SIGKILL']);
    child.write('nobody reads this\n');
    child.end();
    child.kill();
  });

  test(`${name}: a child that closes its input unread does not break startvm (EPIPE)`, async () => {
    const child = spawn('/bin/sh', ['-c', 'exec 0<&-; sleep 0.3; echo still here'], { stdin: 'pipe' });
    const outcome = collect(child);
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.write('x'.repeat(200_000));
    child.write('more');
    child.end();
    assert.equal(await outcome, { exitCode: 0, signal: undefined, stdout: 'still here\n', stderr: '' });
  });

  test(`${name}: bad arguments are an error, never a crash; a byte-order mark is output like any other`, async () => {
    assert.throws(() => spawn(undefined as unknown as string, []), TypeError);
    assert.throws(() => spawn('/bin/echo', ['a\0b']), TypeError);
    assert.throws(() => spawn('/bin/echo', ['a'], { env: { A: 'x\0y' } }), TypeError);
    assert.throws(() => spawn('', []), TypeError);
    assert.is((await collect(spawn('/bin/echo', [1, true] as unknown as string[]))).stdout, '1 true\n', 'converted to strings, as node:child_process does');
    assert.is((await sh(spawn, "printf '\\357\\273\\277hi'")).stdout, '\uFEFFhi');
  });

  test(`${name}: destroy lets go of output a process the child started holds open`, async () => {
    const dir = mkdtempSync(`${tmpdir()}/startvm-spawn-test-`);
    try {
      const child = spawn('/bin/sh', ['-c', `sleep 30 & echo $! > ${dir}/orphan; echo started`]);
      const outcome = collect(child);
      let ended = false;
      child.onClose(() => void (ended = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.not.ok(ended, 'the sleep holds stdout open');
      child.destroy();
      assert.equal(await outcome, { exitCode: 0, signal: undefined, stdout: 'started\n', stderr: '' });
    } finally {
      process.kill(Number(readFileSync(`${dir}/orphan`, 'utf8')), 'SIGKILL'); // the test's own sleep, by PID
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: nothing is left open once a child has ended`, async () => {
    const open = () => process.getActiveResourcesInfo().filter((r) => /Pipe|Process/.test(r));
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20)); // closes finish on the next turns
    await settle();
    const before = open().length;
    await sh(spawn, 'echo x');
    await settle();
    assert.is(open().length, before, process.getActiveResourcesInfo().join(', '));
  });
}

test('spawnChild takes the handles here: node:child_process is never loaded', async () => {
  assert.is((await sh(spawnChild, 'echo ok')).stdout, 'ok\n');
  // In a fresh Node, where nothing else has loaded it.
  const script = `import { spawnChild } from ${JSON.stringify(new URL('../../../src/engine/spawn.ts', import.meta.url).href)};
spawnChild('/bin/true', []).onClose((end) => console.log(JSON.stringify({ end, loaded: process.moduleLoadList.includes('NativeModule child_process') })));`;
  const outcome = await sh(spawnChild, `"${process.execPath}" --input-type=module -e "$SCRIPT"`, { env: { ...process.env, SCRIPT: script } });
  assert.equal(JSON.parse(outcome.stdout), { end: { exitCode: 0 }, loaded: false }, outcome.stderr);
});

test('asked to warn about pending deprecations, Node warns about nothing of startvm: the public modules are used', async () => {
  const script = `import { spawnChild } from ${JSON.stringify(new URL('../../../src/engine/spawn.ts', import.meta.url).href)};
import { isTerminal } from ${JSON.stringify(new URL('../../../src/engine/node-handles.ts', import.meta.url).href)};
isTerminal(2);
spawnChild('/bin/true', []).onClose((end) => console.log(JSON.stringify({ end, loaded: process.moduleLoadList.includes('NativeModule child_process') })));`;
  for (const env of [{ NODE_OPTIONS: '--pending-deprecation' }, { NODE_PENDING_DEPRECATION: '1' }]) {
    const outcome = await sh(spawnChild, `"${process.execPath}" --input-type=module -e "$SCRIPT"`, { env: { ...process.env, ...env, SCRIPT: script } });
    assert.equal(JSON.parse(outcome.stdout), { end: { exitCode: 0 }, loaded: true }, JSON.stringify(env));
    assert.not.match(outcome.stderr, /DEP0111|DeprecationWarning/, outcome.stderr);
  }
});

test('isTerminal answers as node:tty does', () => {
  const file = openSync('/dev/null', 'r');
  try {
    for (const fd of [0, 1, 2, file]) assert.is(isTerminal(fd), isatty(fd), `fd ${fd}`);
  } finally {
    closeSync(file);
  }
});

test('commandRunner: output without the last newline, input, failures that explain themselves', async () => {
  assert.equal(await commandRunner('/bin/sh', ['-c', 'echo a; echo b >&2']), { stdout: 'a', stderr: 'b', exitCode: 0 });
  assert.is((await commandRunner('/bin/cat', [], { input: 'piped\n' })).stdout, 'piped');
  const failed = await commandRunner('/bin/sh', ['-c', 'echo nope >&2; exit 4']).catch((e: Error) => e);
  assert.is((failed as Error).message, '/bin/sh -c echo nope >&2; exit 4 failed with exit code 4: nope');
  assert.is((await commandRunner('/bin/sh', ['-c', 'exit 4'], { allowFailure: true })).exitCode, 4);
  const missing = await commandRunner('/nonexistent/program', []).catch((e: Error) => e);
  assert.match((missing as Error).message, /^\/nonexistent\/program failed: spawn \/nonexistent\/program ENOENT/);
});

test('commandRunner: input that comes later (a promise): the command starts at once and reads it when it comes', async () => {
  const dir = mkdtempSync(`${tmpdir()}/startvm-spawn-test-`);
  try {
    let give!: (text: string) => void;
    const running = commandRunner('/bin/sh', ['-c', `touch ${dir}/started; cat`], { input: new Promise((resolve) => (give = resolve)) });
    while (!existsSync(`${dir}/started`)) await new Promise((resolve) => setTimeout(resolve, 5));
    give('late\n');
    assert.equal(await running, { stdout: 'late', stderr: '', exitCode: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commandRunner: input withheld (the promise rejects): the waiting command is stopped, and fails with that reason', async () => {
  let withhold!: (reason: Error) => void;
  const running = commandRunner('/bin/cat', [], { input: new Promise((_, reject) => (withhold = reject)), allowFailure: true });
  setTimeout(() => withhold(new Error('the run ended before the dhcp stage')), 20);
  const error = (await running.catch((e: Error) => e)) as Error;
  assert.instance(error, Error);
  assert.is(error.message, '/bin/cat failed: the run ended before the dhcp stage');
});

test('commandRunner: a command that ends before its input comes is answered by its exit; the input coming later changes nothing', async () => {
  const open = () => process.getActiveResourcesInfo().filter((r) => /Pipe|Process|Timeout/.test(r)).length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = open();
  let withhold!: (reason: Error) => void;
  const result = await commandRunner('/bin/sh', ['-c', 'echo cannot wait >&2; exit 3'], { input: new Promise((_, reject) => (withhold = reject)), allowFailure: true });
  assert.equal(result, { stdout: '', stderr: 'cannot wait', exitCode: 3 });
  withhold(new Error('too late'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(open(), before, `no kill timer or handle left: ${process.getActiveResourcesInfo().join(', ')}`);
});

test('commandRunner: an abort stops the command and waits for it; an aborted signal starts nothing', async () => {
  const dir = mkdtempSync(`${tmpdir()}/startvm-spawn-test-`);
  try {
    const controller = new AbortController();
    // Takes its time to stop: the rejection must wait for it.
    const running = commandRunner('/bin/sh', ['-c', `trap 'sleep 0.2; touch ${dir}/stopped; exit 143' TERM; sleep 5 & wait`], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('interrupted by SIGTERM')), 100);
    const error = (await running.catch((e: Error) => e)) as Error;
    assert.ok(existsSync(`${dir}/stopped`), 'rejected only once the command had stopped');
    assert.match(error.message, /failed: interrupted by SIGTERM$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const controller = new AbortController();
  controller.abort(new Error('interrupted by SIGTERM'));
  const never = await commandRunner('/nonexistent/program', [], { signal: controller.signal }).catch((e: Error) => e);
  assert.is((never as Error).message, '/nonexistent/program failed: interrupted by SIGTERM', 'not spawned: no ENOENT');
});

test(`commandRunner: a command that ignores SIGTERM gets SIGKILL ${ABORT_GRACE_MS} ms after the abort`, async () => {
  const controller = new AbortController();
  const started = Date.now();
  const running = commandRunner('/bin/sh', ['-c', "trap '' TERM; exec sleep 30"], { signal: controller.signal });
  setTimeout(() => controller.abort(new Error('interrupted by SIGTERM')), 50);
  const error = (await running.catch((e: Error) => e)) as Error;
  const took = Date.now() - started;
  assert.ok(took >= ABORT_GRACE_MS && took < ABORT_GRACE_MS + ABORT_OUTPUT_WAIT_MS, `${took} ms`);
  assert.match(error.message, /failed: interrupted by SIGTERM$/);
});

test('commandRunner: after an abort, output held open by a process the command started is not waited for', async () => {
  const dir = mkdtempSync(`${tmpdir()}/startvm-spawn-test-`);
  const controller = new AbortController();
  const open = () => process.getActiveResourcesInfo().filter((r) => /Pipe|Process/.test(r)).length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = open();
  const started = Date.now();
  try {
    const running = commandRunner('/bin/sh', ['-c', `sleep 30 & echo $! > ${dir}/orphan; wait`], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('interrupted by SIGTERM')), 100);
    const error = (await running.catch((e: Error) => e)) as Error;
    const took = Date.now() - started;
    assert.ok(took >= ABORT_GRACE_MS && took < ABORT_GRACE_MS + ABORT_OUTPUT_WAIT_MS + 1000, `${took} ms`);
    assert.match(error.message, /failed: interrupted by SIGTERM$/);
    // And its output was let go: the sleep that still holds it does not keep startvm's event loop alive.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.is(open(), before, process.getActiveResourcesInfo().join(', '));
  } finally {
    process.kill(Number(readFileSync(`${dir}/orphan`, 'utf8')), 'SIGKILL'); // the test's own sleep, by PID
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
