// The QEMU argument list, built from the profile and what the network stages prepared (pure, given
// the probes). Never a shell string: every argument is one list item.
import Mustache from 'mustache';
import type { Disk, Profile } from '../profile/types.ts';
import type { CapturedNetwork, PreparedNic } from '../net/types.ts';
import type { HostProbes } from './probes.ts';

export interface QemuCommand {
  file: string;
  args: string[];
  accel: 'kvm' | 'tcg';
  /** Lines for the log: the accelerator choice and any fallback. */
  notes: string[];
  warnings: string[];
}

export interface CommandInputs {
  profile: Profile;
  nics: readonly PreparedNic[];
  captured?: CapturedNetwork;
  runDir: string;
  qmp: boolean;
  probes: HostProbes;
}

/** A problem that must stop the hand-over, with what to do about it. */
export class PreflightError extends Error {}

export function chooseAccel(accel: Profile['vm']['accel'], probes: HostProbes): { accel: 'kvm' | 'tcg'; note: string; warning?: string } {
  if (accel === 'tcg') return { accel: 'tcg', note: 'accelerator: tcg (software emulation, as the profile asks)' };
  const kvm = probes.kvm();
  if (kvm.usable) return { accel: 'kvm', note: `accelerator: kvm (${accel === 'auto' ? 'auto: /dev/kvm is usable' : 'required by the profile'})` };
  if (accel === 'kvm') throw new PreflightError(`vm.accel is kvm but ${kvm.reason}: run the container with --device /dev/kvm, or set STARTVM_ACCEL=tcg (slow) or auto`);
  return { accel: 'tcg', note: 'accelerator: tcg (auto)', warning: `KVM is not usable (${kvm.reason}): falling back to TCG software emulation, which is much slower` };
}

/** A value inside a QEMU option list (key=value,...): a comma in it must be doubled. */
const optionValue = (value: string): string => value.replace(/,/g, ',,');

function diskArgs(disk: Disk, index: number, scsiController: { added: boolean }): string[] {
  const common = `file=${optionValue(disk.path)},format=${disk.format},cache=${disk.cache}${disk.readonly ? ',readonly=on' : ''}`;
  const id = `disk${index}`;
  switch (disk.interface) {
    case 'virtio':
    case 'ide':
      return ['-drive', `${common},if=${disk.interface},id=${id}`];
    case 'scsi': {
      const controller = scsiController.added ? [] : ['-device', 'virtio-scsi-pci,id=scsi0'];
      scsiController.added = true;
      return [...controller, '-drive', `${common},if=none,id=${id}`, '-device', `scsi-hd,drive=${id},bus=scsi0.0`];
    }
    case 'sata':
      return ['-drive', `${common},if=none,id=${id}`, '-device', `ide-hd,drive=${id}`];
    case 'nvme':
      return ['-drive', `${common},if=none,id=${id}`, '-device', `nvme,drive=${id},serial=${id}`];
  }
}

function nicArgs(profile: Profile, nics: readonly PreparedNic[], vhost: boolean): string[] {
  if (nics.length === 0) return ['-nic', 'none'];
  const { model } = profile.vm.nic;
  const virtio = model.startsWith('virtio-net');
  return nics.flatMap((nic, index) => {
    if (!nic.portIsTap) throw new PreflightError(`the VM port ${nic.port} of ${nic.bridge} is not a tap (bridge.options.vmPorts): QEMU can only attach to taps`);
    const queues = virtio ? nic.queues : 1;
    const netdev = [`tap,id=net${index},ifname=${nic.port},script=no,downscript=no`, vhost ? 'vhost=on' : '', queues > 1 ? `queues=${queues}` : ''].filter(Boolean).join(',');
    const device = [
      `${model},netdev=net${index},mac=${nic.vmMac}`,
      virtio && queues > 1 ? `mq=on,vectors=${2 * queues + 2}` : '',
      // host_mtu tells a virtio guest the network's MTU (overlay networks: 1450).
      virtio ? `host_mtu=${nic.mtu}` : '',
    ].filter(Boolean).join(',');
    return ['-netdev', netdev, '-device', device];
  });
}

/** The values vm.args templates see (names are checked by lint: src/profile/template-vars.ts). */
export function templateView(inputs: Pick<CommandInputs, 'profile' | 'nics' | 'captured' | 'runDir'>): Record<string, unknown> {
  return {
    hostname: inputs.captured?.hostname ?? '',
    runDir: inputs.runDir,
    cpus: inputs.profile.vm.cpus,
    memory: inputs.profile.vm.memory,
    nics: inputs.nics.map((nic) => {
      const iface = inputs.captured?.interfaces.find((i) => i.name === nic.iface);
      return {
        iface: nic.iface,
        mac: nic.vmMac,
        address: iface?.ipv4[0]?.address ?? '',
        prefix: iface?.ipv4[0]?.prefix ?? '',
        gateway: iface?.routes.find((r) => r.dst === 'default')?.gateway ?? '',
        mtu: nic.mtu,
        bridge: nic.bridge,
        port: nic.port,
      };
    }),
  };
}

export interface HostCheck {
  file: string;
  accel: 'kvm' | 'tcg';
  vhost: boolean;
  notes: string[];
  warnings: string[];
}

/**
 * Everything about the host that could still stop QEMU: the binary, the files the profile names,
 * the accelerator policy, vhost-net. exec-kvm runs it as a preflight too, before the network changes.
 */
export function checkHost(profile: Profile, probes: HostProbes, withNics: boolean): HostCheck {
  const vm = profile.vm;
  const file = probes.executable(vm.qemu);
  if (!file) throw new PreflightError(`QEMU binary "${vm.qemu}" not found or not executable (vm.qemu / STARTVM_QEMU); install qemu-system-x86 or give its path`);
  const unrunnable = probes.execProblem(file);
  if (unrunnable) throw new PreflightError(`QEMU binary ${file} cannot be executed: ${unrunnable}`);
  const missing = [
    ...vm.disks.map((d, i) => [`vm.disks.${i}.path`, d.path] as const),
    ...(vm.cdrom ? [['vm.cdrom', vm.cdrom] as const] : []),
    ...(vm.kernel ? [['vm.kernel', vm.kernel] as const] : []),
    ...(vm.initrd ? [['vm.initrd', vm.initrd] as const] : []),
  ].filter(([, path]) => !probes.fileExists(path));
  if (missing.length) throw new PreflightError(`missing file${missing.length > 1 ? 's' : ''}: ${missing.map(([key, path]) => `${path} (${key})`).join(', ')}; mount ${missing.length > 1 ? 'them' : 'it'} into the container`);

  const accel = chooseAccel(vm.accel, probes);
  const notes = [accel.note];
  const warnings = accel.warning ? [accel.warning] : [];
  let vhost = false;
  if (vm.nic.vhost !== 'off' && withNics && vm.nic.model.startsWith('virtio-net')) {
    const check = probes.vhostNet();
    if (check.usable) vhost = true;
    else if (vm.nic.vhost === 'on') throw new PreflightError(`vm.nic.vhost is on but ${check.reason}: run the container with --device /dev/vhost-net, or set vhost to auto`);
    else notes.push(`vhost-net: off (${check.reason})`);
  }
  return { file, accel: accel.accel, vhost, notes, warnings };
}

export function buildQemuCommand(inputs: CommandInputs): QemuCommand {
  const { profile } = inputs;
  const vm = profile.vm;
  const { file, accel, vhost, notes, warnings } = checkHost(profile, inputs.probes, inputs.nics.length > 0);

  const scsi = { added: false };
  const view = templateView(inputs);
  const args = [
    '-name', `startvm${inputs.captured?.hostname ? `-${inputs.captured.hostname}` : ''}`,
    '-machine', vm.machine,
    '-accel', accel,
    '-cpu', vm.cpu ?? (accel === 'kvm' ? 'host' : 'max'),
    '-smp', String(vm.cpus),
    '-m', String(vm.memory),
    ...(vm.display === 'none' ? ['-display', 'none', '-vga', 'none'] : ['-vnc', vm.display.vnc]),
    // The serial console is the container's stdout; the monitor is reachable through QMP only.
    '-serial', 'stdio',
    '-monitor', 'none',
    ...(inputs.qmp ? ['-qmp', `unix:${optionValue(inputs.runDir)}/qmp.sock,server=on,wait=off`] : []),
    ...vm.disks.flatMap((disk, index) => diskArgs(disk, index, scsi)),
    ...(vm.cdrom ? ['-cdrom', vm.cdrom] : []),
    ...(vm.kernel ? ['-kernel', vm.kernel] : []),
    ...(vm.initrd ? ['-initrd', vm.initrd] : []),
    ...(vm.append !== undefined ? ['-append', vm.append] : []),
    ...nicArgs(profile, inputs.nics, vhost),
    ...vm.args.map((arg) => Mustache.render(arg, view, {}, { escape: (s: string) => s })),
  ];
  return { file, args, accel, notes, warnings };
}

/** For plan output and logs: a shell-quoted rendering (display only; never executed by a shell). */
export const shellQuote = (args: readonly string[]): string => args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
