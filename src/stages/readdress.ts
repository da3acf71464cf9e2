// readdress: moves the container's addresses off the interface (the VM will own them) and gives the
// bridge an address and MAC that cannot conflict with anything, then puts the container's routes
// back on the bridge so the container itself keeps working.
import { defineStage, type StageContext } from '../engine/stage.ts';
import type { ReaddressOptions } from '../profile/types.ts';
import type { CapturedInterface, CapturedNetwork, InterfaceAddress, PreparedNic, Route } from '../net/types.ts';
import type { CommandRunner } from '../engine/command.ts';
import { applyBatch, applyEach, forgetNetwork, knownNetwork, readNetwork, routeSpec, type NetworkView } from '../net/ip.ts';
import { contains, pickLinkLocal, subnetCandidates, toInt } from '../net/address.ts';
import { deriveMac } from '../net/mac.ts';
import { toRoute } from '../net/capture.ts';
import { findExecutable } from '../qemu/probes.ts';

const isConnected = (route: Route): boolean => !route.gateway && route.protocol === 'kernel';
const hasRoute = (view: NetworkView, dev: string, dst: string): boolean => view.routes.some((r) => r.dev === dev && toRoute(r).dst === dst);
const hasAddress = (view: NetworkView, dev: string, address: string): boolean =>
  view.links.some((l) => l.ifname === dev && (l.addr_info ?? []).some((a) => a.local === address));

/** Every IPv4 address in use or routed in the namespace: a link-local candidate must avoid them all. */
function takenIn(view: NetworkView): (address: string) => boolean {
  const used = new Set(view.links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local)));
  for (const r of view.routes) if (r.gateway) used.add(r.gateway);
  const routed = view.routes.map((r) => toRoute(r).dst).filter((dst) => dst !== 'default' && !dst.includes(':'));
  return (address) => used.has(address) || routed.some((cidr) => contains(cidr, address));
}

/** Routes the container gets on the bridge: on-link ones first, so the gateways resolve. */
export function bridgeRoutes(iface: CapturedInterface, bridgeAddress: InterfaceAddress, mode: ReaddressOptions['mode']): Route[] {
  const moved = iface.routes
    // In subnet mode the kernel adds the connected route itself when the bridge gets its address.
    .filter((r) => !(mode === 'subnet' && isConnected(r)))
    .map((r): Route => ({ ...r, protocol: r.protocol === 'kernel' ? 'static' : r.protocol, src: bridgeAddress.address, ...(isConnected(r) ? { scope: 'link' } : {}) }));
  // Without a route the container cannot answer the VM (its DNS forwarder, say): add one per VM address not covered.
  const hostRoutes = iface.ipv4
    .filter((a) => !moved.some((r) => !r.gateway && r.dst !== 'default' && contains(r.dst, a.address)))
    .map((a): Route => ({ dst: `${a.address}/32`, scope: 'link', src: bridgeAddress.address, protocol: 'static' }));
  return [...moved.filter((r) => !r.gateway), ...hostRoutes, ...moved.filter((r) => r.gateway)];
}

export function readdressCommands(iface: CapturedInterface, nic: PreparedNic & { bridgeAddress: InterfaceAddress; bridgeMac: string }, view: NetworkView, mode: ReaddressOptions['mode']): string[] {
  const commands: string[] = [];
  for (const route of iface.routes.filter((r) => !isConnected(r))) {
    if (hasRoute(view, iface.name, route.dst)) commands.push(`route del ${routeSpec({ dst: route.dst, gateway: route.gateway, metric: route.metric }, iface.name)}`);
  }
  // Secondaries first: deleting a primary also deletes its secondaries (unless promote_secondaries).
  for (const a of [...iface.ipv4].reverse()) if (hasAddress(view, iface.name, a.address)) commands.push(`addr del ${a.address}/${a.prefix} dev ${iface.name}`);
  commands.push(`link set ${nic.bridge} address ${nic.bridgeMac}`);
  if (!hasAddress(view, nic.bridge, nic.bridgeAddress.address)) commands.push(`addr add ${nic.bridgeAddress.address}/${nic.bridgeAddress.prefix} dev ${nic.bridge}`);
  for (const route of bridgeRoutes(iface, nic.bridgeAddress, mode)) {
    if (!hasRoute(view, nic.bridge, route.dst)) commands.push(`route add ${routeSpec(route, nic.bridge)}`);
  }
  return commands;
}

/** Undo, step by step: bridge routes and address off, then the original addresses and routes back. */
export function restoreCommands(iface: CapturedInterface, nic: PreparedNic, view: NetworkView): string[] {
  const commands: string[] = [];
  for (const r of view.routes.filter((r) => r.dev === nic.bridge && r.protocol !== 'kernel')) commands.push(`route del ${routeSpec({ dst: toRoute(r).dst, gateway: r.gateway, metric: r.metric }, nic.bridge)}`);
  if (nic.bridgeAddress && hasAddress(view, nic.bridge, nic.bridgeAddress.address)) commands.push(`addr del ${nic.bridgeAddress.address}/${nic.bridgeAddress.prefix} dev ${nic.bridge}`);
  for (const a of iface.ipv4) if (!hasAddress(view, iface.name, a.address)) commands.push(`addr add ${a.address}/${a.prefix}${a.broadcast ? ` brd ${a.broadcast}` : ''} dev ${iface.name}`);
  const missing = iface.routes.filter((r) => !isConnected(r) && !hasRoute(view, iface.name, r.dst));
  for (const r of [...missing.filter((r) => !r.gateway), ...missing.filter((r) => r.gateway)]) commands.push(`route add ${routeSpec(r, iface.name)}`);
  return commands;
}

/** ARP duplicate address detection (iputils arping -D): exit 0 means nobody answered. */
async function isFreeOnLink(run: CommandRunner, bridge: string, address: string, signal: AbortSignal): Promise<boolean> {
  const result = await run('arping', ['-D', '-q', '-I', bridge, '-c', '2', '-w', '2', address], { allowFailure: true, signal });
  if (result.exitCode > 1) throw new Error(`arping failed (exit ${result.exitCode}): ${result.stderr.trim() || 'is iputils-arping installed?'}`);
  return result.exitCode === 0;
}

async function chooseBridgeAddress(ctx: StageContext<ReaddressOptions>, iface: CapturedInterface, nic: PreparedNic, view: NetworkView): Promise<InterfaceAddress> {
  // Re-entry: keep the address the bridge already has, so nothing changes under a running dnsmasq.
  const existing = view.links.find((l) => l.ifname === nic.bridge)?.addr_info?.find((a) => a.family === 'inet');
  if (existing) return { address: existing.local, prefix: existing.prefixlen };
  const primary = iface.ipv4[0]!;
  if (ctx.options.mode === 'link-local') {
    const seed = toInt(`0.${nic.vmMac.split(':').slice(3).map((h) => parseInt(h, 16)).join('.')}`);
    return { address: pickLinkLocal(seed, takenIn(view)), prefix: 32 };
  }
  const exclude = new Set([...iface.ipv4.map((a) => a.address), ...iface.routes.flatMap((r) => (r.gateway ? [r.gateway] : []))]);
  for (const candidate of subnetCandidates(primary.address, primary.prefix, exclude)) {
    if (await isFreeOnLink(ctx.run, nic.bridge, candidate, ctx.signal)) return { address: candidate, prefix: primary.prefix };
    ctx.log.info(`${candidate} answered an ARP probe: in use, trying the next one`);
  }
  throw new Error(`no free address found in ${primary.address}/${primary.prefix} for the bridge (readdress mode "subnet"); use mode "link-local"`);
}

function prerequisites(ctx: StageContext<ReaddressOptions>): { captured: CapturedNetwork; nics: PreparedNic[] } {
  const { captured, nics } = ctx.state;
  if (!captured || !nics) throw new Error('the capture and bridge stages must run first');
  return { captured, nics };
}

const ifaceOf = (captured: CapturedNetwork, nic: PreparedNic): CapturedInterface => captured.interfaces.find((i) => i.name === nic.iface)!;

async function design(ctx: StageContext<ReaddressOptions>, view: NetworkView): Promise<string[]> {
  const { captured, nics } = prerequisites(ctx);
  const commands: string[] = [];
  for (const nic of nics) {
    const iface = ifaceOf(captured, nic);
    nic.bridgeAddress = await chooseBridgeAddress(ctx, iface, nic, view);
    nic.bridgeMac = deriveMac(nic.vmMac, 'bridge');
    commands.push(...readdressCommands(iface, { ...nic, bridgeAddress: nic.bridgeAddress, bridgeMac: nic.bridgeMac }, view, ctx.options.mode));
  }
  return commands;
}

export default defineStage<ReaddressOptions>({
  name: 'readdress',
  description: 'move the addresses to the VM side and give the bridge a non-conflicting address',
  requires: ['capture', 'bridge'],
  async preflight(ctx) {
    if (ctx.options.mode === 'subnet' && !findExecutable('arping')) throw new Error('readdress mode "subnet" probes addresses with arping: install iputils-arping, or use mode "link-local"');
  },
  async apply(ctx) {
    const commands = await design(ctx, await knownNetwork(ctx.run, ctx.state, ctx.signal));
    await applyBatch(ctx.run, commands, ctx.signal);
    forgetNetwork(ctx.state); // nothing after this stage reads the network again in this run
    for (const nic of ctx.state.nics!) ctx.log.info(`${nic.bridge}: ${nic.bridgeAddress!.address}/${nic.bridgeAddress!.prefix} mac ${nic.bridgeMac}; ${nic.iface} has no address now`);
  },
  async rollback(ctx) {
    const { captured, nics } = ctx.state;
    if (!captured || !nics) return;
    const view = await readNetwork(ctx.run);
    const failures = await applyEach(ctx.run, nics.flatMap((nic) => restoreCommands(ifaceOf(captured, nic), nic, view)), ctx.state);
    if (failures.length) throw new Error(failures.join('; '));
  },
  async plan(ctx) {
    if (ctx.options.mode === 'subnet') return ['probe the top of each subnet with ARP for a free bridge address, then move the addresses as in link-local mode'];
    return (await design(ctx, await knownNetwork(ctx.run, ctx.state))).map((c) => `ip ${c}`);
  },
});
