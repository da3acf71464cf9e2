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
    let port = link(nic.port);
    if (nic.portIsTap && port) {
      // Only a tap may be reused (re-entry), never another link that happens to have the name.
      if (port.linkinfo?.info_kind !== 'tun') throw new Error(`${nic.port} exists and is not a tap; choose another bridge.options.tapName`);
      // A tap made with other queue settings (the profile's cpus changed) would make QEMU fail after the exec.
      if ((port.linkinfo.info_data?.multi_queue ?? false) !== nic.queues > 1) {
        commands.push(`link del ${nic.port}`);
        port = undefined;
      }
    }
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
  const kind = (name: string) => view.links.find((l) => l.ifname === name)?.linkinfo?.info_kind;
  const exists = (name: string) => view.links.some((l) => l.ifname === name);
  const commands: string[] = [];
  for (const nic of nics) {
    const original = captured.interfaces.find((i) => i.name === nic.iface);
    if (!nic.portIsTap && exists(nic.port)) commands.push(`link set ${nic.port} nomaster`);
    // Only what this stage can have made: a tap, a bridge. Never another link that has the name.
    if (nic.portIsTap && kind(nic.port) === 'tun') commands.push(`link del ${nic.port}`);
    if (kind(nic.bridge) === 'bridge') commands.push(`link del ${nic.bridge}`);
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
    const commands = bridgeCommands(nics, await knownNetwork(ctx.run, ctx.state, ctx.signal)); // refuses name clashes
    ctx.state.nics = nics; // from here on, rollback has something to undo
    await applyBatch(ctx.run, commands, ctx.signal, ctx.state);
    for (const nic of nics) ctx.log.info(`${nic.bridge}: ${nic.iface} (now ${nic.ifaceMac}) + ${nic.port} for the VM (${nic.vmMac}), mtu ${nic.mtu}`);
  },
  async rollback(ctx) {
    // apply records the design before its first change: no design, nothing changed.
    const { captured, nics } = ctx.state;
    if (!captured || !nics) return;
    const failures = await applyEach(ctx.run, unbridgeCommands(nics, captured, await readNetwork(ctx.run)), ctx.state);
    if (failures.length) throw new Error(failures.join('; '));
  },
  async plan(ctx) {
    const nics = designNics(requireCaptured(ctx), ctx.options, queuesFor(ctx));
    ctx.state.nics = nics;
    return bridgeCommands(nics, await knownNetwork(ctx.run, ctx.state)).map((c) => `ip ${c}`);
  },
});
