// Doctor's checks as pure functions: each outcome (ok, warning, error) from stand-in probes, which
// probes a check may skip, the fixes, and the exit code. Profiles go through checkProfile so the
// schema's defaults and env overrides are the real ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { CAP_NET_ADMIN, codeCacheCheck, effectiveCapabilities, exitCodeOf, kvmCheck, netAdminCheck, nodeCheck, profileCheck, programCheck, runChecks, tunCheck, vhostNetCheck, type CheckResult } from '../../../src/doctor/checks.ts';
import type { DoctorProbes, ProfileLoad } from '../../../src/doctor/probes.ts';
import { PROGRAMS, type ProgramRequirement } from '../../../src/doctor/requirements.ts';
import type { DeviceCheck } from '../../../src/qemu/probes.ts';
import { checkProfile } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import type { Profile } from '../../../src/profile/types.ts';
import type { Problem } from '../../../src/report/problem.ts';

const { catalog } = builtinRegistry();

function profileOf(document: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Profile {
  const { profile, problems } = checkProfile(stringify({ version: 1, ...document }), '/srv/vm/profile.yaml', { env, catalog });
  if (!profile) throw new Error(`test profile is invalid: ${JSON.stringify(problems)}`);
  return profile;
}

const DEFAULTS = profileOf();
const USABLE: DeviceCheck = { usable: true };
const missing = (path: string): DeviceCheck => ({ usable: false, reason: `${path} does not exist` });
// Docker's default capability set (no NET_ADMIN), and the same with --cap-add NET_ADMIN.
const DOCKER_DEFAULT_CAPS = '00000000a80425fb';
const DOCKER_WITH_NET_ADMIN = '00000000a80435fb';
const statusWith = (capEff: string): string => `Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

const mustNotProbe = (what: string) => (): never => {
  throw new Error(`the ${what} probe must not run here`);
};

const CODE_CACHE = '/opt/startvm/dist/startvm.cjs.codecache';

/** A host where everything is there; each probe can be replaced, and program lookups are recorded. */
function probes(overrides: Partial<DoctorProbes> = {}): DoctorProbes & { looked: string[] } {
  const looked: string[] = [];
  const base: DoctorProbes = {
    profile: () => ({ ok: true, file: '/srv/vm/profile.yaml', source: '--profile', profile: DEFAULTS, problems: [] }),
    node: () => ({ version: 'v22.15.0', execve: true }),
    kvm: () => USABLE,
    tun: () => USABLE,
    vhostNet: () => USABLE,
    procStatus: () => statusWith('000001ffffffffff'),
    executable: (name) => (name.startsWith('/') ? name : `/usr/bin/${name}`),
    codeCache: () => ({ file: CODE_CACHE, state: 'accepted' }),
    ...overrides,
  };
  return { ...base, looked, executable: (name) => (looked.push(name), base.executable(name)) };
}

const problem = (line: number, column: number, message: string, ruleId = 'schema'): Problem => ({ severity: 'error', ruleId, message, path: '', line, column });
const failedLoad = (fields: Partial<Extract<ProfileLoad, { ok: false }>> & Pick<Extract<ProfileLoad, { ok: false }>, 'kind' | 'reason'>): ProfileLoad => ({ ok: false, problems: [], defaults: DEFAULTS, ...fields });

// --- profile ---

test('profile: a valid profile is ok and the detail names the file and where it was found', () => {
  for (const source of ['--profile', 'STARTVM_PROFILE', 'mounted', 'built-in'] as const) {
    const result = profileCheck({ ok: true, file: '/etc/startvm/profile.yaml', source, profile: DEFAULTS, problems: [] });
    assert.equal(result, { check: 'profile', status: 'ok', detail: `/etc/startvm/profile.yaml (${source}), valid` });
  }
});

test('profile: a valid profile with warnings is a warning listing them with line:col', () => {
  const warning: Problem = { ...problem(7, 3, 'something odd'), severity: 'warning' };
  const result = profileCheck({ ok: true, file: 'p.yaml', source: 'mounted', profile: DEFAULTS, problems: [warning] });
  assert.is(result.status, 'warning');
  assert.is(result.detail, 'p.yaml (mounted): 7:3 something odd');
  assert.match(result.fix!, /startvm lint p\.yaml/);
});

test('profile: an invalid profile is an error listing every problem as line:col message, in order', () => {
  const result = profileCheck(failedLoad({ kind: 'invalid', file: 'bad.yaml', source: '--profile', reason: 'bad.yaml (--profile) has problems', problems: [problem(5, 9, 'vm.cpus must be an integer'), problem(11, 5, 'unknown stage "brigde"')] }));
  assert.is(result.status, 'error');
  assert.is(result.detail, 'bad.yaml (--profile) has 2 problems: 5:9 vm.cpus must be an integer; 11:5 unknown stage "brigde"; the other checks assume the default settings');
  assert.is(result.fix, 'edit bad.yaml (startvm lint bad.yaml shows each problem)');
});

test('profile: a bad environment variable has no line:col, and the fix names the variable, not the file', () => {
  const result = profileCheck(failedLoad({ kind: 'invalid', file: 'p.yaml', source: 'built-in', reason: 'x', problems: [problem(0, 0, 'NO_DHCP="maybe" is not a boolean', 'env')] }));
  assert.is(result.status, 'error');
  assert.match(result.detail, /has 1 problem: NO_DHCP="maybe" is not a boolean;/);
  assert.not.match(result.detail, /0:0/);
  assert.is(result.fix, 'correct NO_DHCP');
});

test('profile: a missing profile is an error whose fix depends on where the path came from', () => {
  const fromFlag = profileCheck(failedLoad({ kind: 'missing', source: '--profile', reason: 'profile /a.yaml (from --profile) does not exist' }));
  assert.equal([fromFlag.status, fromFlag.fix], ['error', 'pass an existing file to --profile']);
  assert.match(fromFlag.detail, /^profile \/a\.yaml \(from --profile\) does not exist; the other checks assume the default settings$/);
  const fromEnv = profileCheck(failedLoad({ kind: 'missing', source: 'STARTVM_PROFILE', reason: 'profile /e.yaml (from STARTVM_PROFILE) does not exist' }));
  assert.equal([fromEnv.status, fromEnv.fix], ['error', 'set STARTVM_PROFILE to an existing file, or unset it']);
});

test('profile: an unreadable profile is an error', () => {
  const result = profileCheck(failedLoad({ kind: 'unreadable', file: '/etc/startvm', source: '--profile', reason: 'cannot read profile /etc/startvm (--profile): EISDIR' }));
  assert.equal([result.status, result.fix], ['error', 'make /etc/startvm a readable file']);
  assert.match(result.detail, /EISDIR/);
});

// --- node ---

test('node: process.execve present is ok, absent is an error asking for Node.js 22.15', () => {
  assert.equal(nodeCheck({ version: 'v22.15.0', execve: true }), { check: 'node', status: 'ok', detail: 'Node.js v22.15.0 (has process.execve)' });
  const old = nodeCheck({ version: 'v20.11.1', execve: false });
  assert.is(old.status, 'error');
  assert.match(old.detail, /v20\.11\.1 has no process\.execve/);
  assert.is(old.fix, 'run startvm with Node.js 22.15 or later');
});

// --- /dev/kvm ---

test('/dev/kvm: usable is ok whatever vm.accel says', () => {
  for (const accel of ['kvm', 'auto', 'tcg']) {
    const result = kvmCheck(profileOf({ vm: { accel } }), { kvm: () => USABLE });
    assert.is(result.status, 'ok', accel);
    assert.is(result.fix, undefined);
  }
  assert.is(kvmCheck(profileOf({ vm: { accel: 'tcg' } }), { kvm: () => USABLE }).detail, 'opens read-write (unused: vm.accel is tcg)');
});

test('/dev/kvm: missing is an error when vm.accel is kvm', () => {
  const result = kvmCheck(profileOf({ vm: { accel: 'kvm' } }), { kvm: () => missing('/dev/kvm') });
  assert.equal(result, { check: '/dev/kvm', status: 'error', detail: '/dev/kvm does not exist, and vm.accel is kvm', fix: '--device /dev/kvm' });
});

test('/dev/kvm: missing is only a warning with accel auto (the default) or tcg, since TCG still runs the VM', () => {
  const auto = kvmCheck(DEFAULTS, { kvm: () => ({ usable: false, reason: '/dev/kvm cannot be opened read-write (EACCES)' }) });
  assert.equal([auto.status, auto.fix], ['warning', '--device /dev/kvm']);
  assert.match(auto.detail, /^\/dev\/kvm cannot be opened read-write \(EACCES\); vm\.accel is auto, so the VM falls back to TCG/);
  const tcg = kvmCheck(profileOf({ vm: { accel: 'tcg' } }), { kvm: () => missing('/dev/kvm') });
  assert.equal([tcg.status, tcg.fix], ['warning', '--device /dev/kvm']);
  assert.match(tcg.detail, /vm\.accel is tcg/);
});

test('/dev/kvm: STARTVM_ACCEL=kvm turns a missing device into an error, as run would fail', () => {
  const result = kvmCheck(profileOf({ vm: { accel: 'auto' } }, { STARTVM_ACCEL: 'kvm' }), { kvm: () => missing('/dev/kvm') });
  assert.is(result.status, 'error');
});

// --- /dev/net/tun ---

test('/dev/net/tun: usable is ok, missing is an error while the bridge stage creates taps', () => {
  assert.equal(tunCheck(DEFAULTS, { tun: () => USABLE }), { check: '/dev/net/tun', status: 'ok', detail: 'opens read-write' });
  const result = tunCheck(DEFAULTS, { tun: () => missing('/dev/net/tun') });
  assert.equal([result.status, result.fix], ['error', '--device /dev/net/tun']);
  assert.match(result.detail, /^\/dev\/net\/tun does not exist; the bridge stage creates the VM's taps with it$/);
});

test('/dev/net/tun: not needed (and not opened) when the bridge stage is off, absent, or uses vmPorts', () => {
  const profiles = {
    'bridge is off': profileOf({ stages: ['capture', { stage: 'bridge', enabled: false }] }),
    'no bridge stage': profileOf({ stages: ['capture'] }),
    vmPorts: profileOf({ stages: ['capture', { stage: 'bridge', options: { vmPorts: ['veth0'] } }] }),
  };
  for (const [name, profile] of Object.entries(profiles)) {
    const result = tunCheck(profile, { tun: mustNotProbe('tun') });
    assert.is(result.status, 'ok', name);
    assert.match(result.detail, /^not needed: /, name);
  }
});

// --- /dev/vhost-net ---

test('/dev/vhost-net: usable is ok; missing is a warning with vhost auto (the default)', () => {
  assert.equal(vhostNetCheck(DEFAULTS, { vhostNet: () => USABLE }), { check: '/dev/vhost-net', status: 'ok', detail: 'opens read-write' });
  const result = vhostNetCheck(DEFAULTS, { vhostNet: () => missing('/dev/vhost-net') });
  assert.equal([result.status, result.fix], ['warning', '--device /dev/vhost-net']);
  assert.match(result.detail, /^\/dev\/vhost-net does not exist; virtio NICs run without vhost-net/);
});

test('/dev/vhost-net: missing is an error when vm.nic.vhost is on, since QEMU\'s preflight refuses then', () => {
  const result = vhostNetCheck(profileOf({ vm: { nic: { vhost: 'on' } } }), { vhostNet: () => missing('/dev/vhost-net') });
  assert.equal([result.status, result.fix], ['error', '--device /dev/vhost-net']);
});

test('/dev/vhost-net: not needed (and not opened) with vhost off or a NIC model other than virtio-net', () => {
  const off = vhostNetCheck(profileOf({ vm: { nic: { vhost: 'off' } } }), { vhostNet: mustNotProbe('vhost-net') });
  assert.equal(off, { check: '/dev/vhost-net', status: 'ok', detail: 'not needed: vm.nic.vhost is off' });
  const e1000 = vhostNetCheck(profileOf({ vm: { nic: { model: 'e1000', vhost: 'on' } } }), { vhostNet: mustNotProbe('vhost-net') });
  assert.equal([e1000.status, e1000.detail], ['ok', 'not needed: vm.nic.model is e1000, not virtio-net']);
});

// --- CAP_NET_ADMIN ---

test('CapEff is read from its own line of /proc/self/status, not from CapPrm or CapBnd', () => {
  assert.is(effectiveCapabilities(statusWith(DOCKER_DEFAULT_CAPS)), 0xa80425fbn);
  assert.is(effectiveCapabilities('Name:\tnode\n'), undefined);
  assert.is(CAP_NET_ADMIN, 12);
});

test('CAP_NET_ADMIN: bit 12 of CapEff set is ok', () => {
  for (const caps of [DOCKER_WITH_NET_ADMIN, '000001ffffffffff', '0000000000001000']) {
    assert.equal(netAdminCheck(statusWith(caps)), { check: 'CAP_NET_ADMIN', status: 'ok', detail: 'in the effective capability set' }, caps);
  }
});

test('CAP_NET_ADMIN: missing (Docker\'s default set, or every bit but 12) is an error with --cap-add NET_ADMIN', () => {
  for (const caps of [DOCKER_DEFAULT_CAPS, '000001ffffffefff', '0000000000000000']) {
    const result = netAdminCheck(statusWith(caps));
    assert.equal([result.status, result.fix], ['error', '--cap-add NET_ADMIN'], caps);
    assert.match(result.detail, new RegExp(`CapEff ${caps}`), caps);
  }
});

test('CAP_NET_ADMIN: an unreadable status or one without CapEff is an error, not a pass', () => {
  for (const status of [undefined, 'Name:\tnode\nCapPrm:\t000001ffffffffff\n']) {
    const result = netAdminCheck(status);
    assert.is(result.status, 'error');
    assert.match(result.detail, /cannot read CapEff/);
  }
});

// --- programs ---

const requirement = (program: string): ProgramRequirement => PROGRAMS.find((p) => p.program === program)!;

test('programs: each of PROGRAMS found is ok with its path; missing is an error whose fix installs its Debian package', () => {
  for (const req of PROGRAMS) {
    const profile = profileOf({ stages: ['capture', 'bridge', { stage: 'readdress', options: { mode: 'subnet' } }, 'dhcp', 'exec-kvm'] });
    const found = programCheck(req, profile, { executable: (name) => `/usr/sbin/${name}` });
    assert.equal(found, { check: req.program, status: 'ok', detail: `/usr/sbin/${req.program}` });
    const lost = programCheck(req, profile, { executable: () => undefined });
    assert.equal([lost.check, lost.status, lost.fix], [req.program, 'error', `apt-get install ${req.debianPackage}`]);
    assert.is(lost.detail, `${req.program} is not in PATH; used by ${req.usedBy}`);
  }
});

test('programs: QEMU is the profile\'s vm.qemu (or STARTVM_QEMU), and the fix also offers changing it', () => {
  const p = probes({ executable: () => undefined });
  const result = programCheck(requirement('qemu-system-x86_64'), profileOf({ vm: { qemu: '/opt/qemu/bin/qemu-kvm' } }), p);
  assert.equal(p.looked, ['/opt/qemu/bin/qemu-kvm']);
  assert.is(result.status, 'error');
  assert.is(result.detail, '/opt/qemu/bin/qemu-kvm (vm.qemu) is not an executable file; used by exec-kvm');
  assert.is(result.fix, 'apt-get install qemu-system-x86, or set vm.qemu to an installed one');
  const fromEnv = probes();
  const ok = programCheck(requirement('qemu-system-x86_64'), profileOf({}, { STARTVM_QEMU: 'qemu-system-aarch64' }), fromEnv);
  assert.equal(fromEnv.looked, ['qemu-system-aarch64']);
  assert.equal([ok.status, ok.detail], ['ok', '/usr/bin/qemu-system-aarch64 (vm.qemu)']);
});

test('programs: an absolute vm.qemu ending in the usual name is not called renamed', () => {
  const result = programCheck(requirement('qemu-system-x86_64'), profileOf({ vm: { qemu: '/usr/local/bin/qemu-system-x86_64' } }), { executable: () => undefined });
  assert.is(result.fix, 'apt-get install qemu-system-x86');
});

test('programs: dnsmasq is the dhcp stage\'s options.dnsmasq', () => {
  const p = probes();
  const result = programCheck(requirement('dnsmasq'), profileOf({ stages: ['capture', 'bridge', 'readdress', { stage: 'dhcp', options: { dnsmasq: '/opt/bin/dnsmasq-custom' } }, 'exec-kvm'] }), p);
  assert.equal(p.looked, ['/opt/bin/dnsmasq-custom']);
  assert.equal([result.status, result.detail], ['ok', '/opt/bin/dnsmasq-custom (dhcp.options.dnsmasq)']);
});

test('programs: with NO_DHCP=true or the dhcp stage off, dnsmasq is "not needed: dhcp is off" and not looked up', () => {
  for (const profile of [profileOf({}, { NO_DHCP: 'true' }), profileOf({ stages: ['capture', 'bridge', 'readdress', { stage: 'dhcp', enabled: false }, 'exec-kvm'] }), profileOf({ stages: ['capture', 'bridge', 'readdress', 'exec-kvm'] })]) {
    const p = probes({ executable: () => undefined });
    assert.equal(programCheck(requirement('dnsmasq'), profile, p), { check: 'dnsmasq', status: 'ok', detail: 'not needed: dhcp is off' });
    assert.equal(p.looked, []);
  }
  // NO_DHCP=false keeps DHCP on, so the check still looks.
  const p = probes({ executable: () => undefined });
  assert.is(programCheck(requirement('dnsmasq'), profileOf({}, { NO_DHCP: 'false' }), p).status, 'error');
});

test('programs: arping is needed only in readdress mode subnet', () => {
  const subnet = profileOf({ stages: ['capture', 'bridge', { stage: 'readdress', options: { mode: 'subnet' } }, 'dhcp', 'exec-kvm'] });
  const result = programCheck(requirement('arping'), subnet, { executable: () => undefined });
  assert.equal([result.status, result.fix], ['error', 'apt-get install iputils-arping']);
  const p = probes({ executable: () => undefined });
  assert.equal(programCheck(requirement('arping'), DEFAULTS, p), { check: 'arping', status: 'ok', detail: 'not needed: readdress mode is link-local' });
  assert.equal(programCheck(requirement('arping'), profileOf({ stages: ['capture', 'bridge'] }), p).detail, 'not needed: the readdress stage is off');
  assert.equal(p.looked, []);
});

test('programs: QEMU is not needed without exec-kvm, ip not without capture, bridge or readdress', () => {
  const p = probes({ executable: () => undefined });
  assert.equal(programCheck(requirement('qemu-system-x86_64'), profileOf({ stages: ['capture', 'bridge'] }), p).detail, 'not needed: the exec-kvm stage is off');
  assert.equal(programCheck(requirement('ip'), profileOf({ stages: [] }), p).detail, 'not needed: no capture, bridge or readdress stage');
  assert.equal(p.looked, []);
  assert.is(programCheck(requirement('ip'), profileOf({ stages: ['capture'] }), p).status, 'error');
});

test('programs: a program added to PROGRAMS without a rule is checked when required, skipped when optional', () => {
  const required = programCheck({ program: 'nft', debianPackage: 'nftables', usedBy: 'a future stage', required: true }, DEFAULTS, { executable: () => undefined });
  assert.equal(required, { check: 'nft', status: 'error', detail: 'nft is not in PATH; used by a future stage', fix: 'apt-get install nftables' });
  const optional = programCheck({ program: 'nft', debianPackage: 'nftables', usedBy: 'a future option', required: false }, DEFAULTS, { executable: mustNotProbe('executable') });
  assert.equal(optional, { check: 'nft', status: 'ok', detail: 'not needed: only for a future option' });
});

// --- all together ---

const NAMES = ['profile', 'node', '/dev/kvm', '/dev/net/tun', '/dev/vhost-net', 'CAP_NET_ADMIN', ...PROGRAMS.map((p) => p.program), 'code cache'];

test('runChecks: one result per check, in a fixed order, every program of PROGRAMS included', () => {
  const results = runChecks(probes());
  assert.equal(results.map((r) => r.check), NAMES);
  assert.ok(NAMES.includes('qemu-system-x86_64') && NAMES.includes('dnsmasq') && NAMES.includes('ip') && NAMES.includes('arping'));
  assert.ok(results.every((r) => r.status === 'ok'), JSON.stringify(results));
});

test('runChecks: the loaded profile drives the device and program checks', () => {
  const profile = profileOf({ vm: { accel: 'kvm' }, stages: ['capture', 'bridge', 'readdress', { stage: 'dhcp', enabled: false }, 'exec-kvm'] });
  const p = probes({ profile: () => ({ ok: true, file: 'p.yaml', source: 'mounted', profile, problems: [] }), kvm: () => missing('/dev/kvm') });
  const results = runChecks(p);
  assert.is(results.find((r) => r.check === '/dev/kvm')!.status, 'error');
  assert.is(results.find((r) => r.check === 'dnsmasq')!.detail, 'not needed: dhcp is off');
  assert.not.ok(p.looked.includes('dnsmasq'));
});

test('runChecks: when the profile cannot be used, the other checks still run, on the defaults it brings', () => {
  const defaults = profileOf({}, { NO_DHCP: 'true' });
  const p = probes({ profile: () => ({ ok: false, kind: 'missing', source: '--profile', reason: 'profile /a.yaml (from --profile) does not exist', problems: [], defaults }), kvm: () => missing('/dev/kvm') });
  const results = runChecks(p);
  assert.equal(results.map((r) => r.check), NAMES);
  assert.is(results[0]!.status, 'error');
  assert.is(results.find((r) => r.check === '/dev/kvm')!.status, 'warning', 'the default accel is auto');
  assert.is(results.find((r) => r.check === 'dnsmasq')!.detail, 'not needed: dhcp is off');
});

test('every warning and error carries a fix, and no ok does', () => {
  const everythingWrong = probes({
    profile: () => failedLoad({ kind: 'missing', source: 'STARTVM_PROFILE', reason: 'gone' }),
    node: () => ({ version: 'v20.0.0', execve: false }),
    kvm: () => missing('/dev/kvm'),
    tun: () => missing('/dev/net/tun'),
    vhostNet: () => missing('/dev/vhost-net'),
    procStatus: () => statusWith(DOCKER_DEFAULT_CAPS),
    executable: () => undefined,
    codeCache: () => ({ file: CODE_CACHE, state: 'absent' }),
  });
  const results = [...runChecks(everythingWrong), ...runChecks(probes())];
  assert.ok(results.some((r) => r.status === 'warning') && results.some((r) => r.status === 'error') && results.some((r) => r.status === 'ok'));
  for (const r of results) assert.is(r.fix !== undefined && r.fix.length > 0, r.status !== 'ok', `${r.check} ${r.status}`);
  assert.equal(Object.fromEntries(runChecks(everythingWrong).map((r) => [r.check, r.status])), {
    profile: 'error', node: 'error', '/dev/kvm': 'warning', '/dev/net/tun': 'error', '/dev/vhost-net': 'warning', CAP_NET_ADMIN: 'error',
    ip: 'error', dnsmasq: 'error', 'qemu-system-x86_64': 'error', arping: 'ok', 'code cache': 'warning',
  });
});

// --- code cache ---

const loaded: ProfileLoad = { ok: true, file: '/etc/startvm/profile.yaml', source: 'mounted', profile: DEFAULTS, problems: [] };

test('code cache: one that V8 accepted is ok, and says whether it has the parse of the profile', () => {
  const accepted = { file: CODE_CACHE, state: 'accepted' } as const;
  assert.equal(codeCacheCheck({ ...loaded, cachedParse: 'matches' as const }, accepted), { check: 'code cache', status: 'ok', detail: `compiled code from ${CODE_CACHE}, and the parse of /etc/startvm/profile.yaml` });
  for (const load of [loaded, { ...loaded, cachedParse: 'absent' as const }]) {
    assert.equal(codeCacheCheck(load, accepted), {
      check: 'code cache',
      status: 'ok',
      detail: `compiled code from ${CODE_CACHE}; it has no parse of /etc/startvm/profile.yaml (a profile it was not trained on, or one whose parse lint --cache left out, see its notes), so each start parses its YAML (where the image is built: startvm lint --cache /etc/startvm/profile.yaml adds it)`,
    });
  }
  const warned = { ...loaded, cachedParse: 'matches' as const, problems: [{ severity: 'warning' as const, ruleId: 'x', message: 'm', path: '', line: 1, column: 1 }] };
  assert.match(codeCacheCheck(warned, accepted).detail, /which starts do not take: they parse the YAML to point at its problems$/);
});

test('code cache: a parse that differs from the file but does not check clean is a warning (starts parse the YAML)', () => {
  const result = codeCacheCheck({ ...loaded, cachedParse: 'differs-unused' as const }, { file: CODE_CACHE, state: 'accepted' });
  assert.is(result.status, 'warning');
  assert.match(result.detail, /differs from the file's YAML \(starts do not take it: it does not check clean\)/);
});

test('code cache: a parse that differs and that starts would take is an error for an invalid file too (starts would run it)', () => {
  const invalid: ProfileLoad = { ok: false, kind: 'invalid', file: '/etc/startvm/profile.yaml', source: 'mounted', reason: 'has problems', problems: [], defaults: DEFAULTS, cachedParse: 'differs' };
  assert.is(codeCacheCheck(invalid, { file: CODE_CACHE, state: 'accepted' }).status, 'error');
  assert.equal(codeCacheCheck({ ...invalid, cachedParse: 'absent' }, { file: CODE_CACHE, state: 'accepted' }), { check: 'code cache', status: 'ok', detail: `compiled code from ${CODE_CACHE}` });
});

test("code cache: V8's refusal is the verdict when starts do not take the parse that differs", () => {
  assert.match(codeCacheCheck({ ...loaded, cachedParse: 'differs-unused' as const }, { file: CODE_CACHE, state: 'rejected' }).detail, /^V8 refused /);
});

test('code cache: a parse that differs from the file is an error, whatever V8 did with the code', () => {
  for (const state of ['accepted', 'rejected'] as const) {
    const result = codeCacheCheck({ ...loaded, cachedParse: 'differs' as const }, { file: CODE_CACHE, state });
    assert.is(result.status, 'error');
    assert.match(result.detail, /holds a parse of \/etc\/startvm\/profile\.yaml that differs from the file's YAML, and starts take the cache's/);
    assert.match(result.fix!, /^rebuild the cache where the image is built: startvm lint --cache \/etc\/startvm\/profile\.yaml, and keep it as read-only as the bundle$/);
  }
});

test('code cache: a missing, mismatched, refused or unreadable one is a warning with a fix, never an error', () => {
  const cases = [
    ['absent', /^none at .*: each start compiles startvm's code$/],
    ['mismatch', /was made from another build of startvm/],
    ['rejected', /^V8 refused .*another Node\.js or under other V8 flags/],
    ['unreadable', /^cannot read .* \(EACCES\)/],
  ] as const;
  for (const [state, detail] of cases) {
    const result = codeCacheCheck(loaded, { file: CODE_CACHE, state, reason: 'EACCES' });
    assert.is(result.status, 'warning');
    assert.match(result.detail, detail);
    assert.match(result.fix!, /where the image is built: startvm lint --cache \/etc\/startvm\/profile\.yaml$/);
    assert.is(exitCodeOf([result]), 0, 'a slower start is not a failure');
  }
});

test('code cache: a command run with the training variable says it leaves the cache alone', () => {
  assert.equal(codeCacheCheck(loaded, { file: CODE_CACHE, state: 'training' }).status, 'ok');
  assert.match(codeCacheCheck(loaded, { file: CODE_CACHE, state: 'training' }).detail, /this command leaves it as it is/);
});

test('code cache: without bin/startvm (startvm run from its sources) there is none to check', () => {
  assert.is(codeCacheCheck(loaded, undefined).status, 'ok');
});

// --- exit code ---

const result = (status: CheckResult['status']): CheckResult => ({ check: 'x', status, detail: '', ...(status === 'ok' ? {} : { fix: 'f' }) });

test('exit code: 0 when everything is ok or only warnings, 1 as soon as one check is an error', () => {
  assert.is(exitCodeOf([result('ok'), result('ok')]), 0);
  assert.is(exitCodeOf([result('ok'), result('warning'), result('warning')]), 0);
  assert.is(exitCodeOf([result('ok'), result('error'), result('ok')]), 1);
  assert.is(exitCodeOf([result('warning'), result('error')]), 1);
  assert.is(exitCodeOf([result('error')]), 1);
});

test.run();
