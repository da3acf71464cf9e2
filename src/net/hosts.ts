// /etc/hosts entries the VM's DNS forwarder answers (legacy --link names, extra hosts). They go into
// dnsmasq.conf as host-record lines: dnsmasq reads its config as root, but reads extra hosts files
// only after dropping privileges, when a private run directory may be out of its reach.

export interface HostEntry {
  address: string;
  names: string[];
}

/** Loopback and the IPv6 multicast boilerplate are local to the container: the VM has its own. */
const isLocalOnly = (address: string): boolean => /^(127\.|::1$|fe00::|ff0[0-9a-f]::)/i.test(address);

export function parseHosts(text: string): HostEntry[] {
  const entries: HostEntry[] = [];
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (!address || names.length === 0 || isLocalOnly(address)) continue;
    if (!/^[\d.]+$/.test(address) && !address.includes(':')) continue;
    entries.push({ address, names: names.filter((n) => /^[A-Za-z0-9_.-]+$/.test(n)) });
  }
  return entries.filter((e) => e.names.length > 0);
}

/** dnsmasq host-record values: name[,name...],address */
export const hostRecords = (text: string): string[] => parseHosts(text).map((e) => `${e.names.join(',')},${e.address}`);
