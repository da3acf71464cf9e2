// The real probes doctor uses (profile loading as run does it, PATH from the given environment,
// /proc/self/status) and its two output formats.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostDoctorProbes, loadProfileForDoctor } from '../../../src/doctor/probes.ts';
import { effectiveCapabilities, type CheckResult } from '../../../src/doctor/checks.ts';
import { formatJson, formatText } from '../../../src/doctor/format.ts';
import { BUILTIN_PROFILE, MOUNTED_PROFILE } from '../../../src/profile/find.ts';
import { fixture, root } from '../../helpers/paths.ts';
import { readFileSync } from 'node:fs';
import { parseForCache } from '../../../src/profile/check.ts';
import { schemaChecked } from '../../../src/profile/check-data.ts';

const TEST_GUEST = `${root}profiles/test-guest.yaml`;
const dhcpEnabled = (load: ReturnType<typeof loadProfileForDoctor>): boolean | undefined =>
  (load.ok ? load.profile : load.defaults).stages.find((s) => s.stage === 'dhcp')?.enabled;

// --- profile loading ---

test('loading: a valid profile comes back validated, with its source and the env overrides applied', () => {
  const load = loadProfileForDoctor(TEST_GUEST, { NO_DHCP: 'true', STARTVM_CPUS: '3' });
  assert.ok(load.ok);
  if (!load.ok) return;
  assert.equal([load.file, load.source, load.problems], [TEST_GUEST, '--profile', []]);
  assert.is(load.profile.vm.cpus, 3);
  assert.is(dhcpEnabled(load), false);
  assert.is(dhcpEnabled(loadProfileForDoctor(TEST_GUEST, { NO_DHCP: 'false' })), true);
});

test('loading: STARTVM_PROFILE, then the mounted profile, then the built-in one', () => {
  const fromEnv = loadProfileForDoctor(undefined, { STARTVM_PROFILE: TEST_GUEST });
  assert.equal(fromEnv.ok && [fromEnv.file, fromEnv.source], [TEST_GUEST, 'STARTVM_PROFILE']);
  // The injected check says nothing is mounted, so this machine's /etc does not matter.
  const builtIn = loadProfileForDoctor(undefined, {}, (path) => path !== MOUNTED_PROFILE && path === BUILTIN_PROFILE);
  assert.equal(builtIn.ok && [builtIn.file, builtIn.source], [BUILTIN_PROFILE, 'built-in']);
});

test('loading: a missing profile says which setting named it and still brings the defaults', () => {
  const fromFlag = loadProfileForDoctor(`${root}no-such.yaml`, {});
  assert.equal(!fromFlag.ok && [fromFlag.kind, fromFlag.source, fromFlag.reason], ['missing', '--profile', `profile ${root}no-such.yaml (from --profile) does not exist`]);
  assert.is(fromFlag.ok ? undefined : fromFlag.defaults.vm.accel, 'auto');
  const fromEnv = loadProfileForDoctor(undefined, { STARTVM_PROFILE: `${root}no-such.yaml` });
  assert.equal(!fromEnv.ok && [fromEnv.kind, fromEnv.source], ['missing', 'STARTVM_PROFILE']);
});

test('loading: the defaults a failed load brings honour valid env overrides and ignore invalid ones', () => {
  assert.is(dhcpEnabled(loadProfileForDoctor(`${root}no-such.yaml`, { NO_DHCP: 'true' })), false);
  assert.is(dhcpEnabled(loadProfileForDoctor(`${root}no-such.yaml`, { NO_DHCP: 'maybe' })), true);
});

test('loading: a directory is unreadable, with the error code', () => {
  const load = loadProfileForDoctor(fixture('invalid'), {});
  assert.equal(!load.ok && [load.kind, load.reason], ['unreadable', `cannot read profile ${fixture('invalid')} (--profile): EISDIR`]);
});

test('loading: an invalid profile returns every problem with its line and column', () => {
  const load = loadProfileForDoctor(fixture('lint/five-mistakes.yaml'), {});
  assert.is(load.ok, false);
  if (load.ok) return;
  assert.is(load.kind, 'invalid');
  assert.equal(load.problems.map((p) => `${p.line}:${p.column}`), ['5:9', '8:5', '11:5', '15:12', '16:18']);
});

test('loading: a bad override makes a valid file invalid, with an env problem', () => {
  const load = loadProfileForDoctor(TEST_GUEST, { NO_DHCP: 'maybe' });
  assert.equal(!load.ok && load.problems.map((p) => [p.ruleId, p.line]), [['env', 0]]);
});

// --- host probes ---

test("loading: the trained cache's parse of the text, against the file's YAML", () => {
  // What bin/startvm hands the bundle; set here as a start through it would find it.
  const key = Symbol.for('startvm.loader');
  const text = readFileSync(TEST_GUEST, 'utf8');
  const data = parseForCache(text)!;
  const cachedParseWith = (parses: unknown[] | undefined, file = TEST_GUEST) => {
    (globalThis as Record<symbol, unknown>)[key] = parses && { codeCache: { file: 'c', state: 'accepted' }, parsedProfiles: JSON.stringify(parses) };
    try {
      return loadProfileForDoctor(file, {}).cachedParse;
    } finally {
      delete (globalThis as Record<symbol, unknown>)[key];
    }
  };
  assert.is(cachedParseWith(undefined), 'absent', 'not started through bin/startvm');
  assert.is(cachedParseWith([]), 'absent');
  assert.is(cachedParseWith([{ text, data }]), 'matches');
  const checked = schemaChecked(data)!;
  assert.is(cachedParseWith([{ text, data, checked }]), 'matches', 'with its checked form');
  assert.is(cachedParseWith([{ text, data, checked: { ...checked, vm: { ...(checked.vm as object), memory: 1024 } } }]), 'differs', 'a checked form that differs: starts without overrides take it');
  assert.is(cachedParseWith([{ text, data: { ...data, vm: { ...(data.vm as object), memory: 1024 } } }]), 'differs', 'checks clean: starts take it');
  assert.is(cachedParseWith([{ text, data: { ...data, vm: { ...(data.vm as object), memory: 'lots' } } }]), 'differs-unused', 'does not check clean: starts parse the YAML');
  // A file with problems that the cache holds a clean parse of: starts would still run from the cache.
  const broken = fixture('invalid/wrong-type.yaml');
  assert.is(cachedParseWith([{ text: readFileSync(broken, 'utf8'), data }], broken), 'differs');
});

test('host probes look programs up in the PATH of the environment given, not the process\'s', () => {
  assert.is(hostDoctorProbes(undefined, { PATH: '/nonexistent' }).executable('sh'), undefined);
  assert.is(hostDoctorProbes(undefined, {}).executable('sh'), undefined);
  assert.match(hostDoctorProbes(undefined, { PATH: '/nonexistent:/usr/bin:/bin' }).executable('sh') ?? '', /^\/(usr\/)?bin\/sh$/);
});

test('host probes read this process\'s capabilities and Node.js', () => {
  const probes = hostDoctorProbes(undefined, {});
  assert.is(typeof effectiveCapabilities(probes.procStatus() ?? ''), 'bigint');
  assert.equal(probes.node(), { version: process.version, execve: typeof (process as unknown as { execve?: unknown }).execve === 'function' });
  assert.is(probes.node().execve, true, 'the tests run on the project\'s Node 22');
});

test('host probes load the profile named by the flag they were made with', () => {
  const load = hostDoctorProbes(TEST_GUEST, { NO_DHCP: 'true' }).profile();
  assert.equal(load.ok && [load.file, load.source], [TEST_GUEST, '--profile']);
  assert.is(dhcpEnabled(load), false);
});

// --- output ---

const RESULTS: CheckResult[] = [
  { check: 'profile', status: 'ok', detail: 'p.yaml (--profile), valid' },
  { check: '/dev/vhost-net', status: 'warning', detail: 'missing', fix: '--device /dev/vhost-net' },
  { check: 'CAP_NET_ADMIN', status: 'error', detail: 'missing', fix: '--cap-add NET_ADMIN' },
];
const ANSI = /\x1b\[[0-9;]*m/g;

test('text: one line per check, status, name and detail in aligned columns, the fix only on warning and error', () => {
  assert.is(formatText(RESULTS), [
    'ok       profile         p.yaml (--profile), valid',
    'warning  /dev/vhost-net  missing  fix: --device /dev/vhost-net',
    'error    CAP_NET_ADMIN   missing  fix: --cap-add NET_ADMIN',
    '',
  ].join('\n'));
});

test('text: colour paints only the status word (green, yellow, red) and keeps the columns', () => {
  const coloured = formatText(RESULTS, true);
  assert.match(coloured, /^\x1b\[32mok {5}\x1b\[0m {2}profile/m);
  assert.match(coloured, /^\x1b\[33mwarning\x1b\[0m {2}\/dev\/vhost-net/m);
  assert.match(coloured, /^\x1b\[31merror {2}\x1b\[0m {2}CAP_NET_ADMIN/m);
  assert.is(coloured.replace(ANSI, ''), formatText(RESULTS));
  assert.not.match(formatText(RESULTS, false), ANSI);
});

test('json: an array of {check, status, detail, fix?}, no fix key on ok', () => {
  const parsed = JSON.parse(formatJson(RESULTS)) as Record<string, unknown>[];
  assert.equal(parsed, RESULTS);
  assert.equal(Object.keys(parsed[0]!), ['check', 'status', 'detail']);
  assert.equal(Object.keys(parsed[2]!), ['check', 'status', 'detail', 'fix']);
});

test.run();
