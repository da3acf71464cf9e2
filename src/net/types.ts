// What the network stages read and build, shared through the pipeline state (and saved for re-entry).

export interface InterfaceAddress {
  address: string;
  prefix: number;
  /** Broadcast address as it was set, restored exactly on rollback. */
  broadcast?: string;
}

export interface Route {
  /** "default" or a CIDR such as 10.0.0.0/8 or 169.254.1.1/32 (ip prints host routes without /32). */
  dst: string;
  gateway?: string;
  /** On-link flag (a gateway outside every subnet of the interface, as with Calico). */
  onlink?: boolean;
  scope?: string;
  protocol?: string;
  metric?: number;
  src?: string;
}

export interface CapturedInterface {
  name: string;
  index: number;
  mac: string;
  mtu: number;
  ipv4: InterfaceAddress[];
  ipv6: InterfaceAddress[];
  /** Main-table routes through this interface, as they were. */
  routes: Route[];
}

export interface Resolver {
  nameservers: string[];
  search: string[];
  options: string[];
}

export interface CapturedNetwork {
  interfaces: CapturedInterface[];
  resolver: Resolver;
  hostname: string;
  /** The container's /etc/hosts, verbatim (the DNS forwarder answers from it). */
  hosts: string;
}

/** One VM NIC and what was built for it. */
export interface PreparedNic {
  /** Container interface the VM takes over (eth0). */
  iface: string;
  bridge: string;
  /** The VM's port on the bridge: a tap QEMU opens, or an existing link. */
  port: string;
  portIsTap: boolean;
  /** Tap queues: one per vCPU with virtio multiqueue, else 1. */
  queues: number;
  /** The MAC the network knows: the VM gets it. */
  vmMac: string;
  /** New locally administered MAC for the container interface, derived from the original. */
  ifaceMac: string;
  mtu: number;
  /** The bridge's own non-conflicting address and MAC, set by readdress. */
  bridgeAddress?: InterfaceAddress;
  bridgeMac?: string;
}
