// The QEMU argument list: accelerator choice, disks, boot files, display, QMP, NICs (vhost,
// multiqueue, MTU), templated extra arguments, and the preflight errors that stop a hand-over.
// Profiles go through checkProfile so the schema's defaults are the real ones; host probes are injected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildQemuCommand, PreflightError, type CommandInputs, type QemuCommand } from '../../../src/qemu/command.ts';
import { openReadWrite, type HostProbes } from '../../../src/qemu/probes.ts';
import { checkProfile } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import type { Profile } from '../../../src/profile/types.ts';
import type { CapturedNetwork, PreparedNic } from '../../../src/net/types.ts';

const { catalog } = builtinRegistry();
const QEMU = '/usr/bin/qemu-system-x86_64';
const RUN_DIR = '/run/startvm';

/** A validated profile with defaults filled; the file sits in /srv/vm, so relative paths resolve there. */
function profileOf(vm: Record<string, unknown> = {}): Profile {
  const { profile, problems } = checkProfile(stringify({ version: 1, vm }), '/srv/vm/profile.yaml', { env: {}, catalog });
  if (!profile) throw new Error(`test profile is invalid: ${JSON.stringify(problems)}`);
  return profile;
}

/** Probes for a host where everything is there; each one can be replaced, and calls are counted. */
function probes(overrides: Partial<HostProbes> = {}): HostProbes & { calls: string[] } {
  const calls: string[] = [];
  const base: HostProbes = {
    kvm: () => ({ usable: true }),
    vhostNet: () => ({ usable: true }),
    executable: (name) => (name === 'qemu-system-x86_64' ? QEMU : name.startsWith('/') ? name : undefined),
    execProblem: () => undefined,
    fileExists: () => true,
    ...overrides,
  };
  return {
    calls,
    kvm: () => (calls.push('kvm'), base.kvm()),
    vhostNet: () => (calls.push('vhostNet'), base.vhostNet()),
    executable: (name) => (calls.push(`executable ${name}`), base.executable(name)),
    execProblem: (path) => (calls.push(`execProblem ${path}`), base.execProblem(path)),
    fileExists: (path) => (calls.push(`fileExists ${path}`), base.fileExists(path)),
  };
}

const mustNotRun = (what: string) => (): never => {
  throw new Error(`the ${what} probe must not run here`);
};

function nic(index: number, extra: Partial<PreparedNic> = {}): PreparedNic {
  return { iface: `eth${index}`, bridge: `br${index}`, port: `tap${index}`, portIsTap: true, queues: 1, vmMac: `02:42:ac:11:00:0${index + 2}`, ifaceMac: `06:42:ac:11:00:0${index + 2}`, mtu: 1450, ...extra };
}

const captured: CapturedNetwork = {
  hostname: 'web-1',
  hosts: '127.0.0.1 localhost\n',
  resolver: { nameservers: ['10.96.0.10'], search: [], options: [] },
  interfaces: [
    { name: 'eth0', index: 2, mac: '02:42:ac:11:00:02', mtu: 1450, ipv4: [{ address: '172.17.0.2', prefix: 16 }], ipv6: [], routes: [{ dst: '172.17.0.0/16' }, { dst: 'default', gateway: '172.17.0.1' }] },
    { name: 'eth1', index: 3, mac: '02:42:ac:11:00:03', mtu: 1500, ipv4: [{ address: '10.1.0.5', prefix: 24 }], ipv6: [], routes: [{ dst: '10.1.0.0/24' }] },
  ],
};

function build(profile: Profile, inputs: Partial<CommandInputs> = {}): QemuCommand {
  return buildQemuCommand({ profile, nics: [], runDir: RUN_DIR, qmp: true, probes: probes(), ...inputs });
}

/** The value after each occurrence of a flag. */
const valuesOf = (args: readonly string[], flag: string): string[] => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]!] : []));

function preflightError(fn: () => unknown): PreflightError {
  try {
    fn();
  } catch (error) {
    assert.instance(error, PreflightError);
    return error as PreflightError;
  }
  throw new assert.Assertion({ message: 'expected a PreflightError, but nothing was thrown', operator: 'throws', generated: false, expects: 'PreflightError', actual: 'no error' });
}

const tmp = mkdtempSync(join(tmpdir(), 'startvm-command-'));

// --- whole command lines --------------------------------------------------------------------

test('a default profile on a KVM host gives exactly this command line', () => {
  const command = build(profileOf());
  assert.is(command.file, QEMU);
  assert.is(command.accel, 'kvm');
  assert.equal(command.args, [
    '-name', 'startvm',
    '-machine', 'q35',
    '-accel', 'kvm',
    '-cpu', 'host',
    '-smp', '1',
    '-m', '512',
    '-display', 'none', '-vga', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-qmp', 'unix:/run/startvm/qmp.sock,server=on,wait=off',
    '-nic', 'none',
  ]);
  assert.equal(command.notes, ['accelerator: kvm (auto: /dev/kvm is usable)']);
  assert.equal(command.warnings, []);
});

test('a full profile (disks, direct kernel boot, vnc, one multiqueue NIC, templated args) gives exactly this command line', () => {
  const profile = profileOf({
    cpus: 4,
    memory: 2048,
    machine: 'pc',
    accel: 'kvm',
    qemu: '/opt/qemu/bin/qemu-system-x86_64',
    disks: [{ path: 'root.qcow2', format: 'qcow2', cache: 'none' }, { path: '/data/seed.img', interface: 'scsi', readonly: true }],
    kernel: 'vmlinuz',
    initrd: 'initrd.img',
    append: 'console=ttyS0 root=/dev/vda1',
    display: { vnc: '0.0.0.0:1' },
    args: ['-fw_cfg', 'name=opt/startvm/ip,string={{nics.0.address}}/{{nics.0.prefix}}', '-no-reboot'],
  });
  const command = build(profile, { nics: [nic(0, { queues: 4 })], captured });
  assert.is(command.file, '/opt/qemu/bin/qemu-system-x86_64');
  assert.equal(command.args, [
    '-name', 'startvm-web-1',
    '-machine', 'pc',
    '-accel', 'kvm',
    '-cpu', 'host',
    '-smp', '4',
    '-m', '2048',
    '-vnc', '0.0.0.0:1',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-qmp', 'unix:/run/startvm/qmp.sock,server=on,wait=off',
    '-drive', 'file=/srv/vm/root.qcow2,format=qcow2,cache=none,if=virtio,id=disk0',
    '-device', 'virtio-scsi-pci,id=scsi0',
    '-drive', 'file=/data/seed.img,format=raw,cache=writeback,readonly=on,if=none,id=disk1',
    '-device', 'scsi-hd,drive=disk1,bus=scsi0.0',
    '-kernel', '/srv/vm/vmlinuz',
    '-initrd', '/srv/vm/initrd.img',
    '-append', 'console=ttyS0 root=/dev/vda1',
    '-netdev', 'tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=on,queues=4',
    '-device', 'virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02,mq=on,vectors=10,host_mtu=1450',
    '-fw_cfg', 'name=opt/startvm/ip,string=172.17.0.2/16',
    '-no-reboot',
  ]);
  assert.equal(command.notes, ['accelerator: kvm (required by the profile)']);
});

// --- size and machine -----------------------------------------------------------------------

test('cpus, memory and machine come from the profile', () => {
  const { args } = build(profileOf({ cpus: 8, memory: 4096, machine: 'microvm' }));
  assert.equal(valuesOf(args, '-smp'), ['8']);
  assert.equal(valuesOf(args, '-m'), ['4096']);
  assert.equal(valuesOf(args, '-machine'), ['microvm']);
});

// --- accelerator ----------------------------------------------------------------------------

test('accel kvm with a usable /dev/kvm: -accel kvm -cpu host', () => {
  const host = probes();
  const command = build(profileOf({ accel: 'kvm' }), { probes: host });
  assert.is(command.accel, 'kvm');
  assert.equal(valuesOf(command.args, '-accel'), ['kvm']);
  assert.equal(valuesOf(command.args, '-cpu'), ['host']);
  assert.ok(host.calls.includes('kvm'));
});

test('accel kvm without /dev/kvm: a preflight error saying it does not exist and what to do', () => {
  const missing = join(tmp, 'no-kvm');
  const error = preflightError(() => build(profileOf({ accel: 'kvm' }), { probes: probes({ kvm: () => openReadWrite(missing) }) }));
  assert.match(error.message, `vm.accel is kvm but ${missing} does not exist`);
  assert.match(error.message, '--device /dev/kvm');
});

test('accel kvm with a /dev/kvm that cannot be opened read-write: a preflight error saying so', () => {
  // A directory exists but never opens read-write (EISDIR), even for root: a real refusal, not a stub.
  const refused = join(tmp, 'kvm-dir');
  mkdirSync(refused, { recursive: true });
  const error = preflightError(() => build(profileOf({ accel: 'kvm' }), { probes: probes({ kvm: () => openReadWrite(refused) }) }));
  assert.match(error.message, `vm.accel is kvm but ${refused} cannot be opened read-write (EISDIR)`);
  assert.not.match(error.message, 'does not exist');
});

test('accel tcg never probes KVM and uses -cpu max', () => {
  const command = build(profileOf({ accel: 'tcg' }), { probes: probes({ kvm: mustNotRun('kvm') }) });
  assert.is(command.accel, 'tcg');
  assert.equal(valuesOf(command.args, '-accel'), ['tcg']);
  assert.equal(valuesOf(command.args, '-cpu'), ['max']);
  assert.equal(command.notes, ['accelerator: tcg (software emulation, as the profile asks)']);
  assert.equal(command.warnings, []);
});

test('accel auto with a usable /dev/kvm chooses KVM without a warning', () => {
  const command = build(profileOf({ accel: 'auto' }));
  assert.is(command.accel, 'kvm');
  assert.equal(valuesOf(command.args, '-accel'), ['kvm']);
  assert.equal(command.warnings, []);
});

test('accel auto with an unusable /dev/kvm falls back to TCG with one one-line warning', () => {
  const command = build(profileOf({ accel: 'auto' }), { probes: probes({ kvm: () => openReadWrite(join(tmp, 'no-kvm')) }) });
  assert.is(command.accel, 'tcg');
  assert.equal(valuesOf(command.args, '-accel'), ['tcg']);
  assert.equal(valuesOf(command.args, '-cpu'), ['max']);
  assert.is(command.warnings.length, 1);
  assert.not.match(command.warnings[0]!, '\n');
  assert.match(command.warnings[0]!, `KVM is not usable (${join(tmp, 'no-kvm')} does not exist): falling back to TCG`);
  assert.equal(command.notes, ['accelerator: tcg (auto)']);
});

test('an explicit vm.cpu wins under KVM and under TCG', () => {
  assert.equal(valuesOf(build(profileOf({ accel: 'kvm', cpu: 'Skylake-Server' })).args, '-cpu'), ['Skylake-Server']);
  assert.equal(valuesOf(build(profileOf({ accel: 'tcg', cpu: 'qemu64' })).args, '-cpu'), ['qemu64']);
});

// --- disks and boot files -------------------------------------------------------------------

test('each disk interface gets its drive and device, with format, cache and readonly', () => {
  const profile = profileOf({
    disks: [
      { path: '/d/a.qcow2', format: 'qcow2', cache: 'none' },
      { path: '/d/b.img', interface: 'ide', cache: 'writethrough' },
      { path: '/d/c.vmdk', interface: 'sata', format: 'vmdk', readonly: true },
      { path: '/d/d.img', interface: 'nvme', cache: 'directsync' },
      { path: 'e.vhdx', interface: 'virtio', format: 'vhdx', cache: 'unsafe', readonly: true },
    ],
  });
  const { args } = build(profile);
  const from = args.indexOf('-drive');
  assert.equal(args.slice(from, args.indexOf('-nic')), [
    '-drive', 'file=/d/a.qcow2,format=qcow2,cache=none,if=virtio,id=disk0',
    '-drive', 'file=/d/b.img,format=raw,cache=writethrough,if=ide,id=disk1',
    '-drive', 'file=/d/c.vmdk,format=vmdk,cache=writeback,readonly=on,if=none,id=disk2',
    '-device', 'ide-hd,drive=disk2',
    '-drive', 'file=/d/d.img,format=raw,cache=directsync,if=none,id=disk3',
    '-device', 'nvme,drive=disk3,serial=disk3',
    '-drive', 'file=/srv/vm/e.vhdx,format=vhdx,cache=unsafe,readonly=on,if=virtio,id=disk4',
  ]);
});

test('several scsi disks share one virtio-scsi controller', () => {
  const { args } = build(profileOf({ disks: [{ path: '/d/0.img', interface: 'scsi' }, { path: '/d/1.img' }, { path: '/d/2.img', interface: 'scsi' }] }));
  assert.equal(args.filter((a) => a.startsWith('virtio-scsi-pci')), ['virtio-scsi-pci,id=scsi0']);
  const from = args.indexOf('-device');
  assert.equal(args.slice(from, args.indexOf('-nic')), [
    '-device', 'virtio-scsi-pci,id=scsi0',
    '-drive', 'file=/d/0.img,format=raw,cache=writeback,if=none,id=disk0',
    '-device', 'scsi-hd,drive=disk0,bus=scsi0.0',
    '-drive', 'file=/d/1.img,format=raw,cache=writeback,if=virtio,id=disk1',
    '-drive', 'file=/d/2.img,format=raw,cache=writeback,if=none,id=disk2',
    '-device', 'scsi-hd,drive=disk2,bus=scsi0.0',
  ]);
});

test('a comma in a disk path is doubled, so QEMU reads it as part of the file name', () => {
  const { args } = build(profileOf({ disks: [{ path: '/d/a,readonly=off.img' }] }));
  assert.equal(valuesOf(args, '-drive'), ['file=/d/a,,readonly=off.img,format=raw,cache=writeback,if=virtio,id=disk0']);
});

test('a cdrom is attached with -cdrom (a relative path resolves against the profile)', () => {
  assert.equal(valuesOf(build(profileOf({ cdrom: 'boot.iso' })).args, '-cdrom'), ['/srv/vm/boot.iso']);
  assert.not.ok(build(profileOf()).args.includes('-cdrom'));
});

test('kernel, initrd and append are passed as single arguments', () => {
  const { args } = build(profileOf({ kernel: '/boot/vmlinuz', initrd: '/boot/initrd.gz', append: 'console=ttyS0 panic=-1 ip=dhcp' }));
  assert.equal(valuesOf(args, '-kernel'), ['/boot/vmlinuz']);
  assert.equal(valuesOf(args, '-initrd'), ['/boot/initrd.gz']);
  assert.equal(valuesOf(args, '-append'), ['console=ttyS0 panic=-1 ip=dhcp']);
  const plain = build(profileOf()).args;
  for (const flag of ['-kernel', '-initrd', '-append']) assert.not.ok(plain.includes(flag), flag);
});

// --- display and QMP ------------------------------------------------------------------------

test('display none: no graphics and the serial console on stdio', () => {
  const { args } = build(profileOf({ display: 'none' }));
  assert.equal(valuesOf(args, '-display'), ['none']);
  assert.equal(valuesOf(args, '-vga'), ['none']);
  assert.equal(valuesOf(args, '-serial'), ['stdio']);
  assert.not.ok(args.includes('-vnc'));
});

test('display vnc: a VNC server, no -display none, the serial console still on stdio', () => {
  const { args } = build(profileOf({ display: { vnc: 'unix:/run/vnc.sock' } }));
  assert.equal(valuesOf(args, '-vnc'), ['unix:/run/vnc.sock']);
  assert.not.ok(args.includes('-display'));
  assert.not.ok(args.includes('-vga'));
  assert.equal(valuesOf(args, '-serial'), ['stdio']);
});

test('the QMP socket lives in the run dir, and qmp: false leaves it out', () => {
  assert.equal(valuesOf(build(profileOf(), { runDir: '/var/run/vm7' }).args, '-qmp'), ['unix:/var/run/vm7/qmp.sock,server=on,wait=off']);
  assert.not.ok(build(profileOf(), { qmp: false }).args.includes('-qmp'));
});

test('a comma in the run dir is doubled in the QMP socket path', () => {
  assert.equal(valuesOf(build(profileOf(), { runDir: '/run/a,b' }).args, '-qmp'), ['unix:/run/a,,b/qmp.sock,server=on,wait=off']);
});

// --- extra arguments --------------------------------------------------------------------------

test('extra args come last, with templates filled from captured values and nothing HTML-escaped', () => {
  const profile = profileOf({
    args: [
      '-smbios', 'type=1,product={{hostname}},serial={{nics.0.address}}',
      '-fw_cfg', 'name=opt/net,string={{nics.0.gateway}} {{nics.1.mac}} {{nics.1.mtu}} {{nics.1.port}}',
      '-D', '{{runDir}}/qemu.log',
      '{{cpus}}x{{memory}}',
    ],
  });
  const host = { ...captured, hostname: 'db&cache<1>"/x' };
  const { args } = build(profile, { nics: [nic(0), nic(1, { mtu: 1500 })], captured: host, runDir: '/run/a&b' });
  assert.equal(args.slice(-7), [
    '-smbios', 'type=1,product=db&cache<1>"/x,serial=172.17.0.2',
    '-fw_cfg', 'name=opt/net,string=172.17.0.1 02:42:ac:11:00:03 1500 tap1',
    '-D', '/run/a&b/qemu.log',
    '1x512',
  ]);
});

test('a template value that was not captured renders empty', () => {
  const { args } = build(profileOf({ args: ['-smbios', 'type=1,product=[{{hostname}}][{{nics.0.address}}]'] }));
  assert.equal(args.slice(-2), ['-smbios', 'type=1,product=[][]']);
});

// --- NICs -----------------------------------------------------------------------------------

test('one NIC: a tap netdev with its ifname, no scripts, vhost, and a virtio-net-pci device with the original MAC and host_mtu', () => {
  const { args } = build(profileOf(), { nics: [nic(0)] });
  assert.equal(args.slice(args.indexOf('-netdev')), [
    '-netdev', 'tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=on',
    '-device', 'virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02,host_mtu=1450',
  ]);
  assert.not.ok(args.includes('-nic'));
});

test('two NICs: one netdev and one device each, in order, each with its own tap, MAC and MTU', () => {
  const { args } = build(profileOf(), { nics: [nic(0), nic(1, { port: 'vmtap1', mtu: 9000 })] });
  assert.equal(args.slice(args.indexOf('-netdev')), [
    '-netdev', 'tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=on',
    '-device', 'virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02,host_mtu=1450',
    '-netdev', 'tap,id=net1,ifname=vmtap1,script=no,downscript=no,vhost=on',
    '-device', 'virtio-net-pci,netdev=net1,mac=02:42:ac:11:00:03,host_mtu=9000',
  ]);
});

test('an e1000 NIC gets no host_mtu and no vhost (vhost-net is not even probed)', () => {
  const { args, notes } = build(profileOf({ nic: { model: 'e1000' } }), { nics: [nic(0)], probes: probes({ vhostNet: mustNotRun('vhost-net') }) });
  assert.equal(args.slice(args.indexOf('-netdev')), [
    '-netdev', 'tap,id=net0,ifname=tap0,script=no,downscript=no',
    '-device', 'e1000,netdev=net0,mac=02:42:ac:11:00:02',
  ]);
  assert.equal(notes, ['accelerator: kvm (auto: /dev/kvm is usable)']);
});

test('vhost auto without a usable /dev/vhost-net: no vhost=on, and a note saying why', () => {
  const missing = join(tmp, 'no-vhost-net');
  const { args, notes, warnings } = build(profileOf(), { nics: [nic(0)], probes: probes({ vhostNet: () => openReadWrite(missing) }) });
  assert.equal(valuesOf(args, '-netdev'), ['tap,id=net0,ifname=tap0,script=no,downscript=no']);
  assert.equal(notes, ['accelerator: kvm (auto: /dev/kvm is usable)', `vhost-net: off (${missing} does not exist)`]);
  assert.equal(warnings, []);
});

test('vhost on without a usable /dev/vhost-net is a preflight error', () => {
  const missing = join(tmp, 'no-vhost-net');
  const error = preflightError(() => build(profileOf({ nic: { vhost: 'on' } }), { nics: [nic(0)], probes: probes({ vhostNet: () => openReadWrite(missing) }) }));
  assert.match(error.message, `vm.nic.vhost is on but ${missing} does not exist`);
  assert.match(error.message, '--device /dev/vhost-net');
});

test('vhost on with a usable /dev/vhost-net, and vhost off never probes it', () => {
  assert.equal(valuesOf(build(profileOf({ nic: { vhost: 'on' } }), { nics: [nic(0)] }).args, '-netdev'), ['tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=on']);
  const off = build(profileOf({ nic: { vhost: 'off' } }), { nics: [nic(0)], probes: probes({ vhostNet: mustNotRun('vhost-net') }) });
  assert.equal(valuesOf(off.args, '-netdev'), ['tap,id=net0,ifname=tap0,script=no,downscript=no']);
});

test('multiqueue: a tap prepared with N queues gives queues=N and mq=on,vectors=2N+2 on each virtio NIC', () => {
  const { args } = build(profileOf({ cpus: 2 }), { nics: [nic(0, { queues: 2 }), nic(1, { queues: 2 })] });
  assert.equal(valuesOf(args, '-netdev'), [
    'tap,id=net0,ifname=tap0,script=no,downscript=no,vhost=on,queues=2',
    'tap,id=net1,ifname=tap1,script=no,downscript=no,vhost=on,queues=2',
  ]);
  assert.equal(valuesOf(args, '-device'), [
    'virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02,mq=on,vectors=6,host_mtu=1450',
    'virtio-net-pci,netdev=net1,mac=02:42:ac:11:00:03,mq=on,vectors=6,host_mtu=1450',
  ]);
});

test('multiqueue: with 1 vCPU (a single-queue tap) there is no queues= and no mq=on', () => {
  const { args } = build(profileOf({ cpus: 1 }), { nics: [nic(0, { queues: 1 })] });
  assert.not.ok(args.some((a) => a.includes('queues=') || a.includes('mq=on') || a.includes('vectors=')));
});

test('no NICs: -nic none, and vhost-net is not probed', () => {
  const { args } = build(profileOf(), { nics: [], probes: probes({ vhostNet: mustNotRun('vhost-net') }) });
  assert.equal(args.slice(-2), ['-nic', 'none']);
  assert.not.ok(args.includes('-netdev'));
});

// --- preflight errors -----------------------------------------------------------------------

test('a missing QEMU binary is a preflight error naming the binary and vm.qemu', () => {
  const error = preflightError(() => build(profileOf({ qemu: '/opt/none/qemu-system-x86_64' }), { probes: probes({ executable: () => undefined }) }));
  assert.match(error.message, 'QEMU binary "/opt/none/qemu-system-x86_64" not found or not executable');
  assert.match(error.message, 'vm.qemu');
});

test('a missing kernel is a preflight error naming the path and vm.kernel', () => {
  const error = preflightError(() => build(profileOf({ kernel: 'vmlinuz', initrd: '/boot/initrd' }), { probes: probes({ fileExists: (path) => path !== '/srv/vm/vmlinuz' }) }));
  assert.is(error.message, 'missing file: /srv/vm/vmlinuz (vm.kernel); mount it into the container');
});

test('a missing disk is a preflight error naming the path and its key; several missing files are all named', () => {
  const profile = profileOf({ disks: [{ path: '/d/ok.img' }, { path: 'gone.qcow2', format: 'qcow2' }], cdrom: '/iso/gone.iso' });
  const one = preflightError(() => build(profile, { probes: probes({ fileExists: (path) => path !== '/srv/vm/gone.qcow2' }) }));
  assert.is(one.message, 'missing file: /srv/vm/gone.qcow2 (vm.disks.1.path); mount it into the container');
  const two = preflightError(() => build(profile, { probes: probes({ fileExists: (path) => path === '/d/ok.img' }) }));
  assert.is(two.message, 'missing files: /srv/vm/gone.qcow2 (vm.disks.1.path), /iso/gone.iso (vm.cdrom); mount them into the container');
});

test('the files are checked before the accelerator: a missing file is reported even where KVM is unusable', () => {
  const error = preflightError(() => build(profileOf({ accel: 'kvm', kernel: '/boot/vmlinuz' }), { probes: probes({ fileExists: () => false, kvm: mustNotRun('kvm') }) }));
  assert.match(error.message, '/boot/vmlinuz (vm.kernel)');
});

test('a VM port that is not a tap is a preflight error naming the port and the bridge', () => {
  const error = preflightError(() => build(profileOf(), { nics: [nic(0), nic(1, { port: 'veth-vm1', portIsTap: false })] }));
  assert.match(error.message, 'the VM port veth-vm1 of br1 is not a tap');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
