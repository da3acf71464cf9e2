// The ip session's protocol with a scripted stand-in for the process; test/netns runs the real one
// (every startvm run there goes through it, and rollback.test.ts has a command the kernel refuses).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { IpSession, spawnIp, type LineProcess } from '../../../src/net/ip-session.ts';
import { applyBatch, readNetwork, withIpSession } from '../../../src/net/ip.ts';
import type { CommandRunner } from '../../../src/engine/command.ts';

/** Records what the session writes; the test prints lines and ends the process. */
function scriptedIp() {
  const written: string[] = [];
  const lineListeners: ((line: string) => void)[] = [];
  const endListeners: ((exitCode: number | undefined, stderr: string) => void)[] = [];
  let ended = false;
  let killed = false;
  const process: LineProcess = {
    write: (text) => void written.push(text),
    end: () => void (ended = true),
    kill: () => void (killed = true),
    onLine: (listener) => void lineListeners.push(listener),
    onEnd: (listener) => void endListeners.push(listener),
  };
  return {
    process,
    written,
    get ended() {
      return ended;
    },
    get killed() {
      return killed;
    },
    print: (...lines: string[]) => lines.forEach((line) => lineListeners.forEach((listener) => listener(line))),
    /** What `addr show` and `route show` print, for a network with one link named `name`. */
    answer(name: string) {
      this.print(JSON.stringify([{ ifindex: 1, ifname: name, flags: [], mtu: 1500 }]), '[]');
    },
    exit: (exitCode: number | undefined, stderr = '') => endListeners.forEach((listener) => listener(exitCode, stderr)),
  };
}

const READ = 'addr show\nroute show table main\n';

/** A session whose first read has been answered and used: what the stages see after capture. */
async function afterFirstRead() {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  ip.answer('eth0');
  await session.batch([]);
  return { ip, session };
}
const names = (view: { links: { ifname: string }[] }) => view.links.map((l) => l.ifname);

test('the first read goes out when the session starts and answers the first read asked for', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  assert.equal(ip.written, [READ], 'sent before anybody asks');
  ip.answer('eth0');
  assert.equal(names(await session.batch([])), ['eth0']);
  assert.equal(ip.written, [READ], 'answered from the first read, not sent again');
});

test('a batch sends its commands followed by a read, and resolves with what the read printed', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  ip.answer('eth0');
  const after = session.batch(['link add br0 type bridge', 'link set br0 up']);
  assert.equal(ip.written[1], `link add br0 type bridge\nlink set br0 up\n${READ}`);
  ip.answer('br0');
  assert.equal(names(await after), ['br0']);
});

test('after a write, a read is sent afresh: the first read would be stale', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  const write = session.batch(['link add br0 type bridge']); // before the first read was used
  ip.answer('eth0'); // the first read, which nobody wants any more
  ip.answer('br0');
  assert.equal(names(await write), ['br0']);
  const read = session.batch([]);
  assert.equal(ip.written.at(-1), READ);
  ip.answer('br0');
  assert.equal(names(await read), ['br0']);
});

test('lines that are not JSON arrays are not counted as answers', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  ip.print('Warning: something ip wanted to say');
  ip.answer('eth0');
  assert.equal(names(await session.batch([])), ['eth0']);
});

test('a command ip refuses fails its batch with that command named, and every later batch too', async () => {
  const { ip, session } = await afterFirstRead(); // input lines 1-2: the first read
  const failing = session.batch(['link add br0 type bridge', 'link set vmport0 master br0', 'link set br0 up']); // lines 3-5
  ip.exit(1, 'Error: Can not enslave a bridge to a bridge.\nCommand failed -:4\n');
  const error = await failing.catch((e: Error) => e);
  assert.instance(error, Error);
  assert.is((error as Error).message, 'ip link set vmport0 master br0 failed with exit code 1: Error: Can not enslave a bridge to a bridge.');
  assert.is(session.usable, false);
  assert.is(((await session.batch([]).catch((e: Error) => e)) as Error).message, (error as Error).message);
});

test('an ip that cannot start fails the first read with the reason', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  ip.exit(undefined, 'spawn ip ENOENT');
  assert.match(((await session.batch([]).catch((e: Error) => e)) as Error).message, /spawn ip ENOENT/);
});

test('close ends the input and resolves only once the process is gone', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  let closed = false;
  const closing = session.close().then(() => void (closed = true));
  assert.ok(ip.ended);
  await Promise.resolve();
  assert.is(closed, false, 'still running');
  ip.exit(0);
  await closing;
  assert.is(closed, true);
  assert.is(session.usable, false);
});

test('an abort while a batch waits kills ip', async () => {
  const { ip, session } = await afterFirstRead();
  const controller = new AbortController();
  const pending = session.batch(['link add br0 type bridge'], controller.signal);
  controller.abort(new Error('interrupted by SIGTERM'));
  assert.ok(ip.killed);
  ip.exit(undefined);
  assert.instance(await pending.catch((e: unknown) => e), Error);
});

test('a batch asked for with an aborted signal fails at once and sends nothing', async () => {
  const { ip, session } = await afterFirstRead();
  const controller = new AbortController();
  controller.abort(new Error('interrupted by SIGTERM'));
  const error = await session.batch(['link add br0 type bridge'], controller.signal).catch((e: Error) => e);
  assert.is((error as Error).message, 'interrupted by SIGTERM');
  assert.equal(ip.written, [READ], 'the commands never reached ip');
});

test('an error without a line number (bad arguments) names the batch that was running', async () => {
  const { ip, session } = await afterFirstRead();
  const failing = session.batch(['route add 10.0.0.0/8 dev br0 dev br0']);
  ip.exit(255, 'Error: either "dev" is duplicate, or "br0" is a garbage.\n');
  assert.is(((await failing.catch((e: Error) => e)) as Error).message, 'ip -batch (route add 10.0.0.0/8 dev br0 dev br0) failed with exit code 255: Error: either "dev" is duplicate, or "br0" is a garbage.');
});

test('close kills an ip that does not exit once its input has ended', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  const closing = session.close(10);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.ok(ip.killed);
  ip.exit(undefined);
  await closing;
});

test('an ip command run outside the session (by a module stage, say) makes the first read stale: it is read again', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  const run = withIpSession(async () => ({ stdout: '', stderr: '', exitCode: 0 }), session);
  await run('ip', ['link', 'add', 'dummy0', 'type', 'dummy']);
  const read = readNetwork(run);
  ip.answer('eth0'); // the first read, from before the change
  ip.answer('dummy0');
  assert.equal(names(await read), ['dummy0']);
});

test('with a real child process: lines split across writes, answers in order, a clean exit on close', async () => {
  // A stand-in for ip that speaks the same protocol: one JSON line per `show`, written in two pieces.
  const dir = mkdtempSync(`${tmpdir()}/startvm-ip-session-`);
  try {
    const program = `${dir}/ip`;
    writeFileSync(
      program,
      `#!/bin/sh
n=0
while read -r line; do
  case "$line" in
    "addr show") n=$((n + 1)); printf '[{"ifindex":1,"ifname":"'; sleep 0.01; printf 'link%s","flags":[],"mtu":1500}]\\n' "$n" ;;
    "route show table main") echo '[]' ;;
    fail*) echo "Error: told to fail" >&2; echo "Command failed -:$((n * 2 + 1))" >&2; exit 1 ;;
  esac
done
`,
    );
    chmodSync(program, 0o755);
    const session = IpSession.start(spawnIp(program));
    assert.equal(names(await session.batch([])), ['link1']);
    assert.equal(names(await session.batch(['link set lo up'])), ['link2']);
    await session.close();
    assert.is(session.usable, false);

    const failing = IpSession.start(spawnIp(program));
    await failing.batch([]);
    const error = await failing.batch(['fail now']).catch((e: Error) => e);
    assert.is((error as Error).message, 'ip fail now failed with exit code 1: Error: told to fail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an ip that cannot be started ends the session with the reason', async () => {
  const session = IpSession.start(spawnIp('/nonexistent/ip'));
  assert.match(((await session.batch([]).catch((e: Error) => e)) as Error).message, /ENOENT/);
  assert.is(session.usable, false);
});

test('an abort while the first read is still on its way kills ip too', async () => {
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  const controller = new AbortController();
  const pending = session.batch([], controller.signal);
  controller.abort(new Error('interrupted by SIGTERM'));
  assert.ok(ip.killed);
  ip.exit(undefined);
  assert.instance(await pending.catch((e: unknown) => e), Error);
});

test('the ip helpers use the session while it is usable, then spawn ip per call as before', async () => {
  const calls: string[] = [];
  const runner: CommandRunner = async (file, args, options) => {
    calls.push(`${file} ${args.join(' ')}`);
    return { stdout: args.includes('-json') && options?.input ? `${JSON.stringify([{ ifindex: 1, ifname: 'spawned', flags: [], mtu: 1500 }])}\n[]` : '', stderr: '', exitCode: 0 };
  };
  const ip = scriptedIp();
  const session = IpSession.start(ip.process);
  const run = withIpSession(runner, session);
  ip.answer('eth0');
  assert.equal(names(await readNetwork(run)), ['eth0']);
  const applied = applyBatch(run, ['link add br0 type bridge']);
  ip.answer('br0');
  await applied;
  assert.equal(calls, [], 'nothing spawned while the session works');
  session.end();
  assert.equal(names(await readNetwork(run)), ['spawned']);
  await applyBatch(run, ['link del br0']);
  assert.equal(calls, ['ip -json -details -batch -', 'ip -batch -']);
});

test.run();
