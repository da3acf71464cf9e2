// `startvm doctor` through the built CLI, on this machine. The statuses of devices, capabilities and
// installed programs depend on the host, so only what a test controls is asserted: the profile, the
// environment's PATH and NO_DHCP, colour, the shape of the output and its agreement with the exit code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { HELP } from '../../../src/cli/args.ts';
import { PROGRAMS } from '../../../src/doctor/requirements.ts';
import type { CheckResult } from '../../../src/doctor/checks.ts';
import { fixture, root, startvm } from '../../helpers/paths.ts';

const NAMES = ['profile', 'node', '/dev/kvm', '/dev/net/tun', '/dev/vhost-net', 'CAP_NET_ADMIN', ...PROGRAMS.map((p) => p.program), 'code cache'];
const TEST_GUEST = 'profiles/test-guest.yaml';
const ANSI = /\x1b\[/;
const scratch = mkdtempSync(`${tmpdir()}/startvm-doctor-test-`);
// This machine's PATH, so the programs are looked up as a user's doctor would; a run dir that must stay absent.
const hostEnv = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, STARTVM_RUN_DIR: `${scratch}/run`, ...env });

async function doctorJson(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await startvm(['doctor', '--json', ...args], { env: hostEnv(env) });
  assert.is(result.stderr, '', 'doctor writes its report on stdout only');
  const checks = JSON.parse(result.stdout) as CheckResult[];
  const by = (name: string): CheckResult => checks.find((c) => c.check === name)!;
  return { exitCode: result.exitCode, checks, by };
}

test('doctor --json --profile profiles/test-guest.yaml: every check once, well formed, and the exit code agrees', async () => {
  const { exitCode, checks, by } = await doctorJson(['--profile', TEST_GUEST]);
  assert.equal(checks.map((c) => c.check), NAMES);
  for (const c of checks) {
    assert.equal(Object.keys(c).slice(0, 3), ['check', 'status', 'detail'], c.check);
    assert.ok(['ok', 'warning', 'error'].includes(c.status), `${c.check}: ${c.status}`);
    assert.ok(c.detail.length > 0, `${c.check} has a detail`);
    assert.is(typeof c.fix === 'string', c.status !== 'ok', `${c.check}: a fix exactly when not ok`);
  }
  assert.is(exitCode, checks.some((c) => c.status === 'error') ? 1 : 0);
  assert.equal(by('profile'), { check: 'profile', status: 'ok', detail: `${TEST_GUEST} (--profile), valid` });
  assert.is(by('node').status, 'ok', 'the CLI runs on the project\'s Node 22');
  assert.is(by('arping').detail, 'not needed: readdress mode is link-local');
});

test('the text report says the same as --json, one line per check, and exits the same', async () => {
  const json = await doctorJson(['--profile', TEST_GUEST]);
  const text = await startvm(['doctor', '--profile', TEST_GUEST], { env: hostEnv() });
  assert.is(text.exitCode, json.exitCode);
  assert.is(text.stderr, '');
  const lines = text.stdout.split('\n');
  assert.is(lines.length, json.checks.length);
  lines.forEach((line, index) => {
    const c = json.checks[index]!;
    assert.ok(line.startsWith(`${c.status.padEnd(7)}  ${c.check} `), line);
    assert.ok(line.includes(c.detail), line);
    assert.is(line.endsWith(`  fix: ${c.fix}`), c.fix !== undefined, line);
  });
});

test('a missing profile is an error and exit 1, and every other check still reports', async () => {
  const missing = `${root}test/fixtures/no-such-profile.yaml`;
  const { exitCode, checks, by } = await doctorJson(['--profile', missing]);
  assert.is(exitCode, 1);
  assert.equal(checks.map((c) => c.check), NAMES);
  assert.equal(by('profile'), { check: 'profile', status: 'error', detail: `profile ${missing} (from --profile) does not exist; the other checks assume the default settings`, fix: 'pass an existing file to --profile' });
});

test('an invalid profile is an error listing its problems by line:col, exit 1', async () => {
  const { exitCode, by } = await doctorJson(['--profile', fixture('lint/five-mistakes.yaml')]);
  assert.is(exitCode, 1);
  assert.is(by('profile').status, 'error');
  for (const at of ['5:9 vm.cpus must be an integer', '8:5 unknown key "modle"', '11:5 unknown stage "brigde"', '15:12 ', '16:18 ']) assert.ok(by('profile').detail.includes(at), at);
});

test('the profile from STARTVM_PROFILE is named with its source', async () => {
  const { by } = await doctorJson([], { STARTVM_PROFILE: TEST_GUEST });
  assert.equal([by('profile').status, by('profile').detail], ['ok', `${TEST_GUEST} (STARTVM_PROFILE), valid`]);
});

test('NO_DHCP=true: the dnsmasq check says it is not needed; NO_DHCP=false looks for it', async () => {
  const off = await doctorJson(['--profile', TEST_GUEST], { NO_DHCP: 'true', PATH: '/nonexistent' });
  assert.equal(off.by('dnsmasq'), { check: 'dnsmasq', status: 'ok', detail: 'not needed: dhcp is off' });
  const on = await doctorJson(['--profile', TEST_GUEST], { NO_DHCP: 'false', PATH: '/nonexistent' });
  assert.is(on.by('dnsmasq').status, 'error');
});

test('with nothing in PATH, every program the profile needs is an error with its apt-get fix, exit 1', async () => {
  const { exitCode, by } = await doctorJson(['--profile', TEST_GUEST], { PATH: '/nonexistent' });
  assert.is(exitCode, 1);
  assert.equal(by('ip'), { check: 'ip', status: 'error', detail: 'ip is not in PATH; used by capture, bridge, readdress', fix: 'apt-get install iproute2' });
  assert.is(by('dnsmasq').fix, 'apt-get install dnsmasq-base');
  assert.is(by('qemu-system-x86_64').fix, 'apt-get install qemu-system-x86');
  assert.is(by('arping').status, 'ok', 'link-local mode needs no arping');
});

test('STARTVM_QEMU names the binary the QEMU check looks for', async () => {
  const { by } = await doctorJson(['--profile', TEST_GUEST], { STARTVM_QEMU: '/nonexistent/qemu-system-x86_64' });
  assert.is(by('qemu-system-x86_64').status, 'error');
  assert.match(by('qemu-system-x86_64').detail, /^\/nonexistent\/qemu-system-x86_64 is not an executable file/);
});

test('doctor creates no run directory (it only looks)', async () => {
  await doctorJson(['--profile', TEST_GUEST]);
  const text = await startvm(['doctor', '--profile', TEST_GUEST, '--run-dir', `${scratch}/flag-run`], { env: hostEnv() });
  assert.ok(text.stdout.length > 0);
  assert.not.ok(existsSync(`${scratch}/run`), 'STARTVM_RUN_DIR stays absent');
  assert.not.ok(existsSync(`${scratch}/flag-run`), '--run-dir stays absent');
});

test('doctor takes no file arguments, and --help lists it', async () => {
  const result = await startvm(['doctor', TEST_GUEST], { env: hostEnv() });
  assert.equal([result.exitCode, result.stdout], [2, '']);
  assert.match(result.stderr, /"doctor" takes no file arguments \(use --profile FILE\)/);
  assert.match(HELP, /^ {2}startvm doctor \[--profile FILE\] \[--json\]$/m);
});

test('no colour when the output is not a terminal, with or without NO_COLOR', async () => {
  for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: undefined }]) {
    const result = await startvm(['doctor', '--profile', TEST_GUEST], { env: hostEnv(env) });
    assert.ok(result.stdout.length > 0);
    assert.not.match(result.stdout, ANSI, JSON.stringify(env));
  }
});

// The counterpart, so the test above can fail: `script` (util-linux) gives the CLI a pseudo-terminal.
test('on a terminal the statuses are coloured, and NO_COLOR switches that off', async () => {
  const onTerminal = (env: NodeJS.ProcessEnv) =>
    execa('script', ['-qec', `'${process.execPath}' '${root}bin/startvm' doctor --profile '${root}${TEST_GUEST}'`, '/dev/null'], { reject: false, env: { PATH: process.env.PATH, ...env }, extendEnv: false });
  const coloured = await onTerminal({});
  assert.match(coloured.stdout, /\x1b\[32mok {5}\x1b\[0m {2}profile /);
  const plain = await onTerminal({ NO_COLOR: '1' });
  assert.match(plain.stdout, /^ok {7}profile /m);
  assert.not.match(plain.stdout, ANSI);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
