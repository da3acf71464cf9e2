// The values the dnsmasq.conf template is rendered with (pure): what the VM must receive so it has
// exactly the network the container had.
import type { DhcpOptions } from '../profile/types.ts';
import type { CapturedNetwork, PreparedNic, Route } from './types.ts';
import { contains, netmaskOf, networkOf } from './address.ts';
import { isLoopback } from './resolv.ts';
import { hostRecords } from './hosts.ts';

export interface NicView {
  tag: string;
  iface: string;
  bridge: string;
  mac: string;
  address: string;
  prefix: number;
  netmask: string;
  leaseTime: string;
  sharedNetwork: boolean;
  router?: string;
  mtu: number;
  hostname?: string;
  dnsServers?: string;
  domain?: string;
  search?: string;
  classlessRoutes?: string;
}

export interface DnsmasqView {
  nics: NicView[];
  dns: { forward: boolean; upstreams: string[]; hostRecords: string[] };
  leaseFile: string;
  pidFile: string;
  logFile: string;
}

export interface DnsmasqFiles {
  leaseFile: string;
  pidFile: string;
  /** dnsmasq's own log. Not stderr: a daemon holding the caller's stderr pipe would keep it open. */
  logFile: string;
}

const HOSTNAME = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** Forwarding is needed when a resolver is a loopback address: Docker's 127.0.0.11 is unreachable from the VM. */
export function needsForwarding(captured: CapturedNetwork, mode: DhcpOptions['dns']): boolean {
  if (mode === 'forward') return true;
  if (mode === 'direct') return false;
  return captured.resolver.nameservers.some(isLoopback);
}

/** Option 121 entries, or none when the router option alone gives the VM the container's routes. */
function classlessRoutes(routes: readonly Route[], address: string, prefix: number, extra: readonly Route[]): string | undefined {
  const subnet = `${networkOf(address, prefix)}/${prefix}`;
  const gatewayRoutes = routes.filter((r) => r.gateway);
  const onlinkRoutes = routes.filter((r) => !r.gateway && r.dst !== subnet && r.protocol !== 'kernel');
  const simple = extra.length === 0 && onlinkRoutes.length === 0 && gatewayRoutes.every((r) => r.dst === 'default' && contains(subnet, r.gateway!));
  if (simple) return undefined;
  const entries = [...onlinkRoutes, ...extra, ...gatewayRoutes].map((r) => `${r.dst === 'default' ? '0.0.0.0/0' : r.dst},${r.gateway ?? '0.0.0.0'}`);
  return entries.length ? entries.join(',') : undefined;
}

export function dnsmasqView(captured: CapturedNetwork, nics: readonly PreparedNic[], options: DhcpOptions, files: DnsmasqFiles): DnsmasqView {
  const forward = needsForwarding(captured, options.dns);
  const upstreams = captured.resolver.nameservers;
  const hostname = HOSTNAME.test(captured.hostname.split('.')[0] ?? '') ? captured.hostname.split('.')[0] : undefined;
  const search = captured.resolver.search;
  const view: NicView[] = nics.map((nic, index) => {
    const iface = captured.interfaces.find((i) => i.name === nic.iface)!;
    const { address, prefix } = iface.ipv4[0]!;
    const bridge = nic.bridgeAddress;
    const subnet = `${networkOf(address, prefix)}/${prefix}`;
    const bridgeInSubnet = bridge !== undefined && contains(subnet, bridge.address);
    const defaultRoute = iface.routes.find((r) => r.dst === 'default' && r.gateway);
    // The VM must reach the forwarder on the bridge address: on-link when it is outside its subnet.
    const extra: Route[] = forward && bridge && !bridgeInSubnet ? [{ dst: `${bridge.address}/32` }] : [];
    const dnsServers = forward ? (bridge ? [bridge.address] : []) : upstreams.filter((s) => !isLoopback(s) && !s.includes(':'));
    return {
      tag: `nic${index}`,
      iface: nic.iface,
      bridge: nic.bridge,
      mac: nic.vmMac,
      address,
      prefix,
      netmask: netmaskOf(prefix),
      leaseTime: options.leaseTime,
      sharedNetwork: !bridgeInSubnet,
      ...(defaultRoute ? { router: defaultRoute.gateway } : {}),
      mtu: nic.mtu,
      ...(hostname ? { hostname } : {}),
      ...(dnsServers.length ? { dnsServers: dnsServers.join(',') } : {}),
      ...(search.length ? { domain: search[0], search: search.join(',') } : {}),
      ...((routes) => (routes ? { classlessRoutes: routes } : {}))(classlessRoutes(iface.routes, address, prefix, extra)),
    };
  });
  return { nics: view, dns: { forward, upstreams, hostRecords: forward ? hostRecords(captured.hosts) : [] }, leaseFile: files.leaseFile, pidFile: files.pidFile, logFile: files.logFile };
}
