// `startvm doctor`'s checks: pure functions of the profile and the probes, each returning one line's
// worth of verdict. A check whose subject the profile does not use says so and probes nothing.
import type { Profile, StageEntry, DhcpOptions, ReaddressOptions, BridgeOptions } from '../profile/types.ts';
import type { Problem } from '../report/problem.ts';
import type { DoctorProbes, ProfileLoad } from './probes.ts';
import type { CodeCacheStatus } from '../boot.ts';
import { envVariables } from '../profile/env.ts';
import { PROGRAMS, type ProgramRequirement } from './requirements.ts';

export type Status = 'ok' | 'warning' | 'error';

export interface CheckResult {
  check: string;
  status: Status;
  detail: string;
  /** What to change; only for warning and error. */
  fix?: string;
}

const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
const notOk = (check: string, status: 'warning' | 'error', detail: string, fix: string): CheckResult => ({ check, status, detail, fix });

const enabledStage = (profile: Profile, name: string): StageEntry | undefined => profile.stages.find((entry) => entry.stage === name && entry.enabled && !entry.module);

const problemText = (p: Problem): string => `${p.line > 0 ? `${p.line}:${p.column} ` : ''}${p.message}`;

export function profileCheck(load: ProfileLoad): CheckResult {
  if (load.ok) {
    const where = `${load.file} (${load.source})`;
    if (load.problems.length === 0) return ok('profile', `${where}, valid`);
    return notOk('profile', 'warning', `${where}: ${load.problems.map(problemText).join('; ')}`, `edit ${load.file} (startvm lint ${load.file} shows each problem)`);
  }
  // The other checks fall back to the defaults; say so, or their verdicts would look like the profile's.
  const assumed = '; the other checks assume the default settings';
  switch (load.kind) {
    case 'missing':
      return notOk('profile', 'error', `${load.reason}${assumed}`, load.source === 'STARTVM_PROFILE' ? 'set STARTVM_PROFILE to an existing file, or unset it' : 'pass an existing file to --profile');
    case 'unreadable':
      return notOk('profile', 'error', `${load.reason}${assumed}`, `make ${load.file} a readable file`);
    case 'invalid': {
      const envMessages = load.problems.filter((p) => p.ruleId === 'env').map((p) => p.message);
      const variables = envVariables.map((v) => v.name).filter((name) => envMessages.some((message) => new RegExp(`\\b${name}\\b`).test(message)));
      const inFile = load.problems.some((p) => p.ruleId !== 'env');
      const fixes = [inFile ? `edit ${load.file} (startvm lint ${load.file} shows each problem)` : '', variables.length ? `correct ${variables.join(', ')}` : ''].filter(Boolean);
      const count = `${load.problems.length} problem${load.problems.length === 1 ? '' : 's'}`;
      return notOk('profile', 'error', `${load.file} (${load.source}) has ${count}: ${load.problems.map(problemText).join('; ')}${assumed}`, fixes.join('; '));
    }
  }
}

export function nodeCheck(node: { version: string; execve: boolean }): CheckResult {
  if (node.execve) return ok('node', `Node.js ${node.version} (has process.execve)`);
  return notOk('node', 'error', `Node.js ${node.version} has no process.execve, which hands the container over to QEMU`, 'run startvm with Node.js 22.15 or later');
}

export function kvmCheck(profile: Profile, probes: Pick<DoctorProbes, 'kvm'>): CheckResult {
  const { accel } = profile.vm;
  const kvm = probes.kvm();
  if (kvm.usable) return ok('/dev/kvm', `opens read-write${accel === 'tcg' ? ' (unused: vm.accel is tcg)' : ''}`);
  if (accel === 'kvm') return notOk('/dev/kvm', 'error', `${kvm.reason}, and vm.accel is kvm`, '--device /dev/kvm');
  // TCG still boots the VM, only slowly, so this alone must not fail the container.
  const consequence = accel === 'auto' ? 'vm.accel is auto, so the VM falls back to TCG software emulation (slow)' : 'vm.accel is tcg: software emulation (slow)';
  return notOk('/dev/kvm', 'warning', `${kvm.reason}; ${consequence}`, '--device /dev/kvm');
}

export function tunCheck(profile: Profile, probes: Pick<DoctorProbes, 'tun'>): CheckResult {
  const bridge = enabledStage(profile, 'bridge');
  if (!bridge) return ok('/dev/net/tun', 'not needed: the bridge stage is off');
  if ((bridge.options as Partial<BridgeOptions>).vmPorts) return ok('/dev/net/tun', 'not needed: bridge.options.vmPorts names existing ports, no tap is created');
  const tun = probes.tun();
  if (tun.usable) return ok('/dev/net/tun', 'opens read-write');
  return notOk('/dev/net/tun', 'error', `${tun.reason}; the bridge stage creates the VM's taps with it`, '--device /dev/net/tun');
}

export function vhostNetCheck(profile: Profile, probes: Pick<DoctorProbes, 'vhostNet'>): CheckResult {
  const { vhost, model } = profile.vm.nic;
  if (vhost === 'off') return ok('/dev/vhost-net', 'not needed: vm.nic.vhost is off');
  if (!model.startsWith('virtio-net')) return ok('/dev/vhost-net', `not needed: vm.nic.model is ${model}, not virtio-net`);
  const check = probes.vhostNet();
  if (check.usable) return ok('/dev/vhost-net', 'opens read-write');
  // With vhost "on" QEMU's preflight refuses to start, so doctor must call it an error too.
  if (vhost === 'on') return notOk('/dev/vhost-net', 'error', `${check.reason}, and vm.nic.vhost is on`, '--device /dev/vhost-net');
  return notOk('/dev/vhost-net', 'warning', `${check.reason}; virtio NICs run without vhost-net (slower)`, '--device /dev/vhost-net');
}

export const CAP_NET_ADMIN = 12;

/** The effective capability set from /proc/self/status text, or undefined when it has no CapEff line. */
export function effectiveCapabilities(status: string): bigint | undefined {
  const match = /^CapEff:\s*([0-9a-f]+)\s*$/im.exec(status);
  return match ? BigInt(`0x${match[1]}`) : undefined;
}

export function netAdminCheck(status: string | undefined): CheckResult {
  const caps = status === undefined ? undefined : effectiveCapabilities(status);
  if (caps === undefined) return notOk('CAP_NET_ADMIN', 'error', 'cannot read CapEff from /proc/self/status', '--cap-add NET_ADMIN');
  if ((caps >> BigInt(CAP_NET_ADMIN)) & 1n) return ok('CAP_NET_ADMIN', 'in the effective capability set');
  return notOk('CAP_NET_ADMIN', 'error', `missing from the effective capability set (CapEff ${caps.toString(16).padStart(16, '0')}); the network stages cannot change links or addresses`, '--cap-add NET_ADMIN');
}

/** Which binary the profile makes a program's stage run, or why it does not need it. */
type Need = { binary: string; setting?: string } | { notNeeded: string };

// Keyed by PROGRAMS' names: the profile decides which of them a run needs and under which name.
const NEEDS: Record<string, (profile: Profile) => Need> = {
  ip: (profile) => (['capture', 'bridge', 'readdress'].some((name) => enabledStage(profile, name)) ? { binary: 'ip' } : { notNeeded: 'no capture, bridge or readdress stage' }),
  dnsmasq: (profile) => {
    const dhcp = enabledStage(profile, 'dhcp');
    return dhcp ? { binary: (dhcp.options as Partial<DhcpOptions>).dnsmasq ?? 'dnsmasq', setting: 'dhcp.options.dnsmasq' } : { notNeeded: 'dhcp is off' };
  },
  'qemu-system-x86_64': (profile) => (enabledStage(profile, 'exec-kvm') ? { binary: profile.vm.qemu, setting: 'vm.qemu' } : { notNeeded: 'the exec-kvm stage is off' }),
  arping: (profile) => {
    const readdress = enabledStage(profile, 'readdress');
    if (!readdress) return { notNeeded: 'the readdress stage is off' };
    const mode = (readdress.options as Partial<ReaddressOptions>).mode ?? 'link-local';
    return mode === 'subnet' ? { binary: 'arping' } : { notNeeded: `readdress mode is ${mode}` };
  },
};

export function programCheck(requirement: ProgramRequirement, profile: Profile, probes: Pick<DoctorProbes, 'executable'>): CheckResult {
  const { program, debianPackage, usedBy } = requirement;
  // A program added to PROGRAMS without a rule above is still checked, by its required flag.
  const need = NEEDS[program]?.(profile) ?? (requirement.required ? { binary: program } : { notNeeded: `only for ${usedBy}` });
  if ('notNeeded' in need) return ok(program, `not needed: ${need.notNeeded}`);
  const renamed = need.binary !== program && !need.binary.endsWith(`/${program}`);
  const named = renamed && need.setting ? ` (${need.setting})` : '';
  const found = probes.executable(need.binary);
  if (found) return ok(program, `${found}${named}`);
  const where = need.binary.includes('/') ? 'is not an executable file' : 'is not in PATH';
  const fix = `apt-get install ${debianPackage}${renamed && need.setting ? `, or set ${need.setting} to an installed one` : ''}`;
  return notOk(program, 'error', `${need.binary}${named} ${where}; used by ${usedBy}`, fix);
}

export function runChecks(probes: DoctorProbes): CheckResult[] {
  const load = probes.profile();
  const profile = load.ok ? load.profile : load.defaults;
  return [
    profileCheck(load),
    nodeCheck(probes.node()),
    kvmCheck(profile, probes),
    tunCheck(profile, probes),
    vhostNetCheck(profile, probes),
    netAdminCheck(probes.procStatus()),
    ...PROGRAMS.map((requirement) => programCheck(requirement, profile, probes)),
    codeCacheCheck(load, probes.codeCache()),
  ];
}

/**
 * The trained code cache (bin/startvm) makes a start faster; without it a start only takes longer.
 * So does its parse of the profile, which it has only for the profiles it was trained on; a parse
 * that differs from the file's YAML would make starts run another profile than the file says.
 */
export function codeCacheCheck(load: ProfileLoad, code: CodeCacheStatus | undefined): CheckResult {
  const fix = `where the image is built: startvm lint --cache ${load.file ?? '<profile>'}`;
  if (!code) return ok('code cache', 'not started through bin/startvm, which loads it');
  if (load.cachedParse === 'differs') {
    return notOk('code cache', 'error', `${code.file} holds a parse of ${load.file} that differs from the file's YAML, and starts take the cache's: startvm lint --cache did not make it from this text`, `rebuild the cache ${fix}, and keep it as read-only as the bundle`);
  }
  if (code.state === 'accepted') {
    if (load.cachedParse === 'differs-unused') {
      return notOk('code cache', 'warning', `${code.file} holds a parse of ${load.file} that differs from the file's YAML (starts do not take it: it does not check clean): startvm lint --cache did not make it from this text`, `rebuild the cache ${fix}, and keep it as read-only as the bundle`);
    }
    if (!load.ok) return ok('code cache', `compiled code from ${code.file}`);
    if (load.cachedParse === 'matches') {
      if (load.problems.length === 0) return ok('code cache', `compiled code from ${code.file}, and the parse of ${load.file}`);
      return ok('code cache', `compiled code from ${code.file}, and the parse of ${load.file}, which starts do not take: they parse the YAML to point at its problems`);
    }
    return ok('code cache', `compiled code from ${code.file}; it has no parse of ${load.file} (a profile it was not trained on, or one whose parse lint --cache left out, see its notes), so each start parses its YAML (${fix} adds it)`);
  }
  if (code.state === 'mismatch') return notOk('code cache', 'warning', `${code.file} was made from another build of startvm: each start compiles startvm's code`, fix);
  if (code.state === 'rejected') return notOk('code cache', 'warning', `V8 refused ${code.file}: it was made by another Node.js or under other V8 flags (NODE_OPTIONS?): each start compiles startvm's code`, `run startvm with the Node.js and flags it was trained with, or ${fix}`);
  if (code.state === 'training') return ok('code cache', `STARTVM_CODE_CACHE_TRAINING=1: only lint --cache trains ${code.file}; this command leaves it as it is`);
  if (code.state === 'unreadable') return notOk('code cache', 'warning', `cannot read ${code.file} (${code.reason}): each start compiles startvm's code`, `make it a readable file, or ${fix}`);
  return notOk('code cache', 'warning', `none at ${code.file}: each start compiles startvm's code`, fix);
}

/** Warnings leave the VM runnable (slower); any error means something it needs is missing. */
export const exitCodeOf = (results: readonly CheckResult[]): number => (results.some((r) => r.status === 'error') ? 1 : 0);
