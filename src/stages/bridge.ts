// bridge: one bridge per handed-over interface, with the interface and the VM's port (a tap) on it.
// The VM keeps the original MAC; the interface gets a derived, locally administered one.
import { defineStage, type StageContext } from '../engine/stage.ts';
import type { BridgeOptions } from '../profile/types.ts';
import type { CapturedNetwork, PreparedNic } from '../net/types.ts';
import { applyBatch, applyEach, knownNetwork, readNetwork, type NetworkView } from '../net/ip.ts';
import { deriveMac } from '../net/mac.ts';
import { linkName } from '../net/names.ts';
import { openReadWrite } from '../qemu/probes.ts';

/** What the bridge stage builds for each interface (pure). */
export function designNics(captured: CapturedNetwork, options: BridgeOptions, queues: number): PreparedNic[] {
  if (options.vmPorts && options.vmPorts.length !== captured.interfaces.length) {
    throw new Error(`bridge.options.vmPorts names ${options.vmPorts.length} port(s) for ${captured.interfaces.length} interface(s)`);
  }
  return captured.interfaces.map((iface, index) => ({
    iface: iface.name,
    bridge: linkName(options.bridgeName, index, iface.name),
    port: options.vmPorts?.[index] ?? linkName(options.tapName, index, iface.name),
    portIsTap: !options.vmPorts,
    queues: options.vmPorts ? 1 : queues,
    vmMac: iface.mac,
    ifaceMac: deriveMac(iface.mac, 'container-interface'),
    mtu: iface.mtu,
  }));
}

/** The commands that bring the namespace from `view` to the design; skips what already exists (re-entry). */
export function bridgeCommands(nics: readonly PreparedNic[], view: NetworkView): string[] {
  const link = (name: string) => view.links.find((l) => l.ifname === name);
  const commands: string[] = [];
  for (const nic of nics) {
    const bridge = link(nic.bridge);
    if (bridge && bridge.linkinfo?.info_kind !== 'bridge') throw new Error(`${nic.bridge} exists and is not a bridge; choose another bridge.options.bridgeName`);
    if (!bridge) commands.push(`link add ${nic.bridge} type bridge`);
    commands.push(`link set ${nic.bridge} mtu ${nic.mtu}`);
    const iface = link(nic.iface);
    if (iface?.address !== nic.ifaceMac) commands.push(`link set ${nic.iface} address ${nic.ifaceMac}`);
    if (iface?.master !== nic.bridge) commands.push(`link set ${nic.iface} master ${nic.bridge}`);
    const port = link(nic.port);
    if (nic.portIsTap && !port) commands.push(`tuntap add dev ${nic.port} mode tap${nic.queues > 1 ? ' multi_queue' : ''}`);
    if (!nic.portIsTap && !port) throw new Error(`VM port ${nic.port} (bridge.options.vmPorts) does not exist`);
    commands.push(`link set ${nic.port} mtu ${nic.mtu}`);
    if (port?.master !== nic.bridge) commands.push(`link set ${nic.port} master ${nic.bridge}`);
    commands.push(`link set ${nic.port} up`, `link set ${nic.bridge} up`);
  }
  return commands;
}

/** Undo: remove taps and bridges (which frees their ports), give the interfaces their MACs back. */
export function unbridgeCommands(nics: readonly PreparedNic[], captured: CapturedNetwork, view: NetworkView): string[] {
  const exists = (name: string) => view.links.some((l) => l.ifname === name);
  const commands: string[] = [];
  for (const nic of nics) {
    const original = captured.interfaces.find((i) => i.name === nic.iface);
    if (!nic.portIsTap && exists(nic.port)) commands.push(`link set ${nic.port} nomaster`);
    if (nic.portIsTap && exists(nic.port)) commands.push(`link del ${nic.port}`);
    if (exists(nic.bridge)) commands.push(`link del ${nic.bridge}`);
    if (original && exists(nic.iface)) commands.push(`link set ${nic.iface} address ${original.mac}`, `link set ${nic.iface} mtu ${original.mtu}`, `link set ${nic.iface} up`);
  }
  return commands;
}

const queuesFor = (ctx: StageContext<BridgeOptions>): number => (ctx.profile.vm.nic.multiqueue && ctx.profile.vm.cpus > 1 && ctx.profile.vm.nic.model.startsWith('virtio') ? ctx.profile.vm.cpus : 1);

function requireCaptured(ctx: StageContext<BridgeOptions>): CapturedNetwork {
  if (!ctx.state.captured) throw new Error('nothing captured: the capture stage must run first');
  return ctx.state.captured;
}

export default defineStage<BridgeOptions>({
  name: 'bridge',
  description: 'create a bridge per interface with the interface and the VM tap on it',
  requires: ['capture'],
  async preflight(ctx) {
    if (ctx.options.vmPorts) return;
    const tun = openReadWrite('/dev/net/tun');
    if (!tun.usable) throw new Error(`the VM's taps need ${tun.reason.replace('/dev/net/tun ', '/dev/net/tun, which ')}: run the container with --device /dev/net/tun`);
  },
  async apply(ctx) {
    const nics = designNics(requireCaptured(ctx), ctx.options, queuesFor(ctx));
    ctx.state.nics = nics;
    await applyBatch(ctx.run, bridgeCommands(nics, await knownNetwork(ctx.run, ctx.state, ctx.signal)), ctx.signal, ctx.state);
    for (const nic of nics) ctx.log.info(`${nic.bridge}: ${nic.iface} (now ${nic.ifaceMac}) + ${nic.port} for the VM (${nic.vmMac}), mtu ${nic.mtu}`);
  },
  async rollback(ctx) {
    const captured = ctx.state.captured;
    const nics = ctx.state.nics ?? (captured ? designNics(captured, ctx.options, queuesFor(ctx)) : []);
    if (!captured) return;
    const failures = await applyEach(ctx.run, unbridgeCommands(nics, captured, await readNetwork(ctx.run)), ctx.state);
    delete ctx.state.nics;
    if (failures.length) throw new Error(failures.join('; '));
  },
  async plan(ctx) {
    const nics = designNics(requireCaptured(ctx), ctx.options, queuesFor(ctx));
    ctx.state.nics = nics;
    return bridgeCommands(nics, await knownNetwork(ctx.run, ctx.state)).map((c) => `ip ${c}`);
  },
});
