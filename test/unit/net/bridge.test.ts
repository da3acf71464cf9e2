// The bridge stage's design and its iproute2 commands, forwards and back (src/stages/bridge.ts),
// against real `ip -json` samples of each state the namespace can be in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bridgeCommands, designNics, unbridgeCommands } from '../../../src/stages/bridge.ts';
import type { IpLink, NetworkView } from '../../../src/net/ip.ts';
import { BRIDGE_DEFAULTS, captured, view } from './samples.ts';

const docker = await captured('docker');
const calico = await captured('calico');
const two = await captured('two-networks');

/** A veth named vmport0 (the VM's port when bridge.options.vmPorts is used) added to a sample. */
const withVmPort = (sample: NetworkView): NetworkView => ({
  ...sample,
  links: [...sample.links, { ifindex: 99, ifname: 'vmport0', flags: ['BROADCAST', 'MULTICAST'], mtu: 1500, address: '02:00:00:00:00:42', link_type: 'ether', linkinfo: { info_kind: 'veth' } } satisfies IpLink],
});

const FRESH_DOCKER = [
  'link add br0 type bridge',
  'link set br0 mtu 1500',
  'link set eth0 address 46:e7:3c:b3:40:e6',
  'link set eth0 master br0',
  'tuntap add dev tap0 mode tap',
  'link set tap0 mtu 1500',
  'link set tap0 master br0',
  'link set tap0 up',
  'link set br0 up',
];

test('design: bridge and tap names from the default templates; the VM keeps the MAC, the interface gets a derived one', () => {
  assert.equal(designNics(docker, BRIDGE_DEFAULTS, 1), [
    { iface: 'eth0', bridge: 'br0', port: 'tap0', portIsTap: true, queues: 1, vmMac: '02:42:ac:11:00:02', ifaceMac: '46:e7:3c:b3:40:e6', mtu: 1500 },
  ]);
});

test('design: one bridge and tap per interface, named by index or interface name, each with its MTU', () => {
  const nics = designNics(two, { bridgeName: '{{name}}-br', tapName: 'vm{{index}}-{{name}}' }, 1);
  assert.equal(nics.map((n) => [n.iface, n.bridge, n.port, n.mtu]), [['eth0', 'eth0-br', 'vm0-eth0', 1500], ['eth1', 'eth1-br', 'vm1-eth1', 1450]]);
  assert.equal(designNics(two, BRIDGE_DEFAULTS, 1).map((n) => [n.bridge, n.port]), [['br0', 'tap0'], ['br1', 'tap1']]);
});

test('design: the derived interface MAC is locally administered unicast and differs from the VM\'s', () => {
  for (const network of [docker, calico, two]) {
    for (const nic of designNics(network, BRIDGE_DEFAULTS, 1)) {
      assert.is.not(nic.ifaceMac, nic.vmMac);
      assert.is(parseInt(nic.ifaceMac.slice(0, 2), 16) & 0x03, 0x02, `${nic.ifaceMac} is not locally administered unicast`);
    }
  }
  assert.equal(designNics(calico, BRIDGE_DEFAULTS, 1), designNics(calico, BRIDGE_DEFAULTS, 1), 'the same design on every start');
});

test('design: vmPorts must name one port per interface', () => {
  assert.throws(() => designNics(two, { ...BRIDGE_DEFAULTS, vmPorts: ['vmport0'] }, 1), (error: Error) => error.message === 'bridge.options.vmPorts names 1 port(s) for 2 interface(s)');
  assert.throws(() => designNics(docker, { ...BRIDGE_DEFAULTS, vmPorts: ['a', 'b'] }, 1), /names 2 port\(s\) for 1 interface\(s\)/);
});

test('design: multiqueue only for taps; an existing VM port gets one queue', () => {
  assert.is(designNics(docker, BRIDGE_DEFAULTS, 4)[0]!.queues, 4);
  const [port] = designNics(docker, { ...BRIDGE_DEFAULTS, vmPorts: ['vmport0'] }, 4);
  assert.equal([port!.port, port!.portIsTap, port!.queues], ['vmport0', false, 1]);
});

test('commands on a fresh container: bridge, interface with its new MAC on it, tap, MTUs, all up', async () => {
  assert.equal(bridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 1), await view('docker')), FRESH_DOCKER);
});

test('commands: a multiqueue tap is created with multi_queue', async () => {
  const commands = bridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 4), await view('docker'));
  assert.ok(commands.includes('tuntap add dev tap0 mode tap multi_queue'), commands.join('\n'));
});

test('commands: two interfaces, each on its own bridge with its own MTU', async () => {
  const commands = bridgeCommands(designNics(two, BRIDGE_DEFAULTS, 1), await view('two-networks'));
  assert.equal(commands.slice(9), [
    'link add br1 type bridge',
    'link set br1 mtu 1450',
    'link set eth1 address ' + designNics(two, BRIDGE_DEFAULTS, 1)[1]!.ifaceMac,
    'link set eth1 master br1',
    'tuntap add dev tap1 mode tap',
    'link set tap1 mtu 1450',
    'link set tap1 master br1',
    'link set tap1 up',
    'link set br1 up',
  ]);
});

test('commands re-entered after the bridge was created skip creating it again', async () => {
  assert.equal(bridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 1), await view('half-bridged')), FRESH_DOCKER.slice(1));
});

test('commands re-entered on a finished bridge create nothing and move nothing, only set MTUs and up', async () => {
  assert.equal(bridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 1), await view('bridged')), ['link set br0 mtu 1500', 'link set tap0 mtu 1500', 'link set tap0 up', 'link set br0 up']);
});

test('commands refuse a link with the bridge\'s name that is not a bridge', async () => {
  const squatter = await view('squatter');
  assert.throws(() => bridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 1), squatter), (error: Error) => error.message === 'br0 exists and is not a bridge; choose another bridge.options.bridgeName');
});

test('commands with vmPorts: the existing port goes on the bridge, no tap is created', async () => {
  const commands = bridgeCommands(designNics(docker, { ...BRIDGE_DEFAULTS, vmPorts: ['vmport0'] }, 4), withVmPort(await view('docker')));
  assert.equal(commands, [...FRESH_DOCKER.slice(0, 4), 'link set vmport0 mtu 1500', 'link set vmport0 master br0', 'link set vmport0 up', 'link set br0 up']);
});

test('commands with vmPorts refuse a port that does not exist', async () => {
  const sample = await view('docker');
  assert.throws(() => bridgeCommands(designNics(docker, { ...BRIDGE_DEFAULTS, vmPorts: ['vmport0'] }, 1), sample), (error: Error) => error.message === 'VM port vmport0 (bridge.options.vmPorts) does not exist');
});

test('undo on a finished bridge: tap and bridge deleted, the interface gets its MAC and MTU back and is up', async () => {
  assert.equal(unbridgeCommands(designNics(docker, BRIDGE_DEFAULTS, 1), docker, await view('bridged')), [
    'link del tap0',
    'link del br0',
    'link set eth0 address 02:42:ac:11:00:02',
    'link set eth0 mtu 1500',
    'link set eth0 up',
  ]);
  assert.equal(unbridgeCommands(designNics(calico, BRIDGE_DEFAULTS, 1), calico, await view('calico-bridged')).slice(2), [
    'link set eth0 address 96:1f:3a:5c:02:7e',
    'link set eth0 mtu 1440',
    'link set eth0 up',
  ]);
});

test('undo deletes only what exists: a half-built bridge, or nothing at all', async () => {
  const nics = designNics(docker, BRIDGE_DEFAULTS, 1);
  const restore = ['link set eth0 address 02:42:ac:11:00:02', 'link set eth0 mtu 1500', 'link set eth0 up'];
  assert.equal(unbridgeCommands(nics, docker, await view('half-bridged')), ['link del br0', ...restore]);
  assert.equal(unbridgeCommands(nics, docker, await view('docker')), restore);
});

test('undo with vmPorts takes the port off the bridge and never deletes it', async () => {
  const nics = designNics(docker, { ...BRIDGE_DEFAULTS, vmPorts: ['vmport0'] }, 1);
  const commands = unbridgeCommands(nics, docker, withVmPort(await view('bridged')));
  assert.equal(commands.slice(0, 2), ['link set vmport0 nomaster', 'link del br0']);
  assert.not.ok(commands.includes('link del vmport0'), commands.join('\n'));
});

test.run();
