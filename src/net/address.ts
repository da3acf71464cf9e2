// IPv4 arithmetic for the readdress and dhcp stages (pure; ipaddr.js does the parsing).
import ipaddr from 'ipaddr.js';

export const toInt = (address: string): number => ipaddr.IPv4.parse(address).toByteArray().reduce((n, b) => n * 256 + b, 0);
export const fromInt = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export const netmaskOf = (prefix: number): string => ipaddr.IPv4.subnetMaskFromPrefixLength(prefix).toString();

export function networkOf(address: string, prefix: number): string {
  const size = 2 ** (32 - prefix);
  return fromInt(Math.floor(toInt(address) / size) * size);
}

const isIPv4 = (text: string): boolean => ipaddr.IPv4.isValidFourPartDecimal(text);

export function contains(cidr: string, address: string): boolean {
  // IPv4 by arithmetic: ipaddr.parseCIDR tries IPv6 first, whose parser costs ~1 ms on its first use.
  const [base = '', bits = '32'] = cidr.split('/');
  const prefix = /^\d{1,2}$/.test(bits) ? Number(bits) : NaN; // "10.0.0.0/" is no /0
  if (isIPv4(base) && isIPv4(address) && prefix <= 32) return networkOf(base, prefix) === networkOf(address, prefix);
  const [net, netBits] = ipaddr.parseCIDR(cidr.includes('/') ? cidr : `${cidr}/32`);
  const ip = ipaddr.parse(address);
  return ip.kind() === net.kind() && ip.match(net, netBits);
}

/** Link-local addresses that are never used for the bridge: Calico's gateway and the cloud metadata service. */
export const RESERVED_LINK_LOCAL = new Set(['169.254.1.1', '169.254.169.254']);

/**
 * A free 169.254.x.y, starting from a seed so the same interface gets the same address on every
 * start, skipping addresses in use and anything a route points at.
 */
export function pickLinkLocal(seed: number, taken: (address: string) => boolean): string {
  // 169.254.1.0 - 169.254.254.255 (RFC 3927 reserves the first and last /24).
  const first = toInt('169.254.1.0');
  const count = 254 * 256;
  for (let i = 0; i < count; i++) {
    const candidate = fromInt(first + ((seed + i) % count));
    const lastOctet = Number(candidate.split('.')[3]);
    if (lastOctet === 0 || lastOctet === 255 || RESERVED_LINK_LOCAL.has(candidate) || taken(candidate)) continue;
    return candidate;
  }
  throw new Error('no free link-local address left for the bridge');
}

/** Candidates for the subnet mode, from the top of the subnet down (Docker and most IPAMs allocate from the bottom). */
export function subnetCandidates(address: string, prefix: number, exclude: ReadonlySet<string>): string[] {
  if (prefix > 30) return [];
  const network = toInt(networkOf(address, prefix));
  const broadcast = network + 2 ** (32 - prefix) - 1;
  const out: string[] = [];
  for (let n = broadcast - 1; n > network && out.length < 8; n--) {
    const candidate = fromInt(n);
    if (!exclude.has(candidate)) out.push(candidate);
  }
  return out;
}
