// TypeScript view of a validated profile (defaults filled, env overrides applied).
// The JSON Schema in schemas/profile.schema.json is the source of truth; test/unit/profile-types.test.ts
// checks that every property the schema declares is named here.

export type Accel = 'kvm' | 'tcg' | 'auto';

export interface Disk {
  path: string;
  format: 'raw' | 'qcow2' | 'vmdk' | 'vdi' | 'vhdx';
  interface: 'virtio' | 'ide' | 'scsi' | 'sata' | 'nvme';
  cache: 'none' | 'writeback' | 'writethrough' | 'directsync' | 'unsafe';
  readonly: boolean;
}

export interface NicOptions {
  model: string;
  vhost: 'auto' | 'on' | 'off';
  multiqueue: boolean;
}

export interface VmSection {
  cpus: number;
  memory: number;
  accel: Accel;
  machine: string;
  cpu?: string;
  qemu: string;
  disks: Disk[];
  cdrom?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  display: 'none' | { vnc: string };
  nic: NicOptions;
  args: string[];
}

export interface NetworkSection {
  interfaces: 'auto' | string[];
}

/** A stage entry after normalisation: strings become objects. */
export interface StageEntry {
  stage: string;
  enabled: boolean;
  module?: string;
  options: Record<string, unknown>;
}

export interface Profile {
  version: 1;
  vm: VmSection;
  network: NetworkSection;
  stages: StageEntry[];
}

export interface CaptureOptions { resolvConf: string; hosts: string }
export interface BridgeOptions { bridgeName: string; tapName: string; vmPorts?: string[] }
export interface ReaddressOptions { mode: 'link-local' | 'subnet' }
export interface DhcpOptions { template?: string; dnsmasq: string; dns: 'auto' | 'forward' | 'direct'; leaseTime: string }
export interface ExecKvmOptions { qmp: boolean }
