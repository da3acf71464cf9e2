// Turns what `ip -json` printed into the captured configuration (pure, so it is unit-tested).
import type { IpLink, IpRoute, NetworkView } from './ip.ts';
import type { CapturedInterface, Route } from './types.ts';

/** Links startvm never hands over: loopback and links that are themselves bridges, taps or bridge ports. */
function isCandidate(link: IpLink): boolean {
  if (link.flags.includes('LOOPBACK') || link.link_type !== 'ether') return false;
  const kind = link.linkinfo?.info_kind;
  return kind !== 'bridge' && kind !== 'tun' && link.master === undefined;
}

export function toRoute(route: IpRoute): Route {
  return {
    dst: route.dst === 'default' || route.dst.includes('/') || route.dst.includes(':') ? route.dst : `${route.dst}/32`,
    ...(route.gateway ? { gateway: route.gateway } : {}),
    ...(route.flags?.includes('onlink') ? { onlink: true } : {}),
    ...(route.scope ? { scope: route.scope } : {}),
    ...(route.protocol ? { protocol: route.protocol } : {}),
    ...(route.metric !== undefined ? { metric: route.metric } : {}),
    ...(route.prefsrc ? { src: route.prefsrc } : {}),
  };
}

function describe(link: IpLink, routes: readonly IpRoute[]): CapturedInterface {
  const addresses = link.addr_info ?? [];
  return {
    name: link.ifname,
    index: link.ifindex,
    mac: link.address ?? '',
    mtu: link.mtu,
    ipv4: addresses.filter((a) => a.family === 'inet').map((a) => ({ address: a.local, prefix: a.prefixlen, ...(a.broadcast ? { broadcast: a.broadcast } : {}) })),
    ipv6: addresses.filter((a) => a.family === 'inet6' && a.scope !== 'link').map((a) => ({ address: a.local, prefix: a.prefixlen })),
    routes: routes.filter((r) => r.dev === link.ifname && (r.type === undefined || r.type === 'unicast')).map(toRoute),
  };
}

export interface Selection {
  interfaces: CapturedInterface[];
  /** Interfaces left out under "auto" and why. */
  skipped: string[];
}

/** "auto": every candidate link with an IPv4 address, by interface index. A named list must exist and have IPv4. */
export function selectInterfaces(view: NetworkView, wanted: 'auto' | readonly string[]): Selection {
  if (wanted === 'auto') {
    const skipped: string[] = [];
    const interfaces = view.links
      .filter(isCandidate)
      .sort((a, b) => a.ifindex - b.ifindex)
      .map((link) => describe(link, view.routes))
      .filter((iface) => iface.ipv4.length > 0 || (skipped.push(`${iface.name} (no IPv4 address)`), false));
    if (interfaces.length === 0) throw new Error('no interface with an IPv4 address to hand over (network.interfaces: auto found none); is the container attached to a network?');
    return { interfaces, skipped };
  }
  const interfaces = wanted.map((name) => {
    const link = view.links.find((l) => l.ifname === name);
    if (!link) throw new Error(`interface ${name} (network.interfaces) does not exist; present: ${view.links.filter((l) => !l.flags.includes('LOOPBACK')).map((l) => l.ifname).join(', ') || 'none'}`);
    const iface = describe(link, view.routes);
    if (iface.ipv4.length === 0) throw new Error(`interface ${name} has no IPv4 address to hand over`);
    return iface;
  });
  return { interfaces, skipped: [] };
}
