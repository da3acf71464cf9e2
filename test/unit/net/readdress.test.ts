// The readdress stage: the bridge's own address, the container's routes moved onto the bridge, and
// everything put back (src/stages/readdress.ts), against real `ip -json` samples.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import readdress, { bridgeRoutes, readdressCommands, restoreCommands } from '../../../src/stages/readdress.ts';
import { designNics } from '../../../src/stages/bridge.ts';
import type { ReaddressOptions } from '../../../src/profile/types.ts';
import type { CapturedNetwork, PreparedNic } from '../../../src/net/types.ts';
import type { NetworkView } from '../../../src/net/ip.ts';
import { BRIDGE_DEFAULTS, captured, planContext, view, viewRunner } from './samples.ts';

const docker = await captured('docker');
const calico = await captured('calico');
const mixed = await captured('mixed');
const dockerEth0 = docker.interfaces[0]!;
const calicoEth0 = calico.interfaces[0]!;

const DOCKER_BRIDGE = { address: '169.254.35.2', prefix: 32 };
const CALICO_BRIDGE = { address: '169.254.187.126', prefix: 32 };
/** The NIC as readdress leaves it; the bridge MACs are those in the *-bridged samples. */
const dockerNic = { ...designNics(docker, BRIDGE_DEFAULTS, 1)[0]!, bridgeAddress: DOCKER_BRIDGE, bridgeMac: 'd6:2d:d1:dd:de:63' };
const calicoNic = { ...designNics(calico, BRIDGE_DEFAULTS, 1)[0]!, bridgeAddress: CALICO_BRIDGE, bridgeMac: 'f6:74:2f:b3:e5:8f' };

/** readdress's own plan: chooses the bridge address from what ip reports, as apply does, and changes nothing. */
async function plan(network: CapturedNetwork, sample: NetworkView, mode: ReaddressOptions['mode'] = 'link-local'): Promise<{ lines: string[]; nics: PreparedNic[] }> {
  const nics = designNics(network, BRIDGE_DEFAULTS, 1);
  const lines = await readdress.plan!(planContext<ReaddressOptions>({ mode }, { captured: network, nics }, viewRunner(sample)));
  return { lines, nics };
}

test('bridge routes, Docker: the connected route moves to the bridge with scope link and the bridge as src, the default route last', () => {
  assert.equal(bridgeRoutes(dockerEth0, DOCKER_BRIDGE, 'link-local'), [
    { dst: '172.17.0.0/16', scope: 'link', protocol: 'static', src: '169.254.35.2' },
    { dst: 'default', gateway: '172.17.0.1', scope: 'global', protocol: 'boot', src: '169.254.35.2' },
  ]);
});

test('bridge routes, Calico: the on-link /32 first, a host route to the VM\'s /32 address, the onlink default last', () => {
  assert.equal(bridgeRoutes(calicoEth0, CALICO_BRIDGE, 'link-local'), [
    { dst: '169.254.1.1/32', scope: 'link', protocol: 'boot', src: '169.254.187.126' },
    { dst: '10.244.1.5/32', scope: 'link', src: '169.254.187.126', protocol: 'static' },
    { dst: 'default', gateway: '169.254.1.1', onlink: true, scope: 'global', protocol: 'boot', src: '169.254.187.126' },
  ]);
});

test('bridge routes: a host route for each VM address no moved route covers, gateway routes after them', () => {
  const routes = bridgeRoutes(mixed.interfaces[1]!, DOCKER_BRIDGE, 'link-local');
  assert.equal(routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`), ['10.5.0.0/24', '10.6.0.9/32', 'default via 10.5.0.1'], '10.5.0.2 is inside 10.5.0.0/24, 10.6.0.9/32 is not');
  const eth0 = bridgeRoutes(mixed.interfaces[0]!, DOCKER_BRIDGE, 'link-local');
  assert.equal(eth0.at(-1), { dst: '10.50.0.0/16', gateway: '10.1.0.1', scope: 'global', protocol: 'boot', metric: 100, src: '169.254.35.2' }, 'the metric stays');
});

test('bridge routes in subnet mode: the connected route is left to the kernel, the default route still moves', () => {
  const bridge = { address: '172.17.255.254', prefix: 16 };
  const routes = bridgeRoutes(dockerEth0, bridge, 'subnet');
  assert.not.ok(routes.some((r) => r.dst === '172.17.0.0/16'), JSON.stringify(routes));
  assert.equal(routes.at(-1), { dst: 'default', gateway: '172.17.0.1', scope: 'global', protocol: 'boot', src: '172.17.255.254' });
  assert.ok(bridgeRoutes(dockerEth0, bridge, 'link-local').some((r) => r.dst === '172.17.0.0/16'), 'only subnet mode drops it');
});

test('readdress commands, Docker: routes and address off eth0, bridge MAC and address, routes on the bridge', async () => {
  assert.equal(readdressCommands(dockerEth0, dockerNic, await view('docker'), 'link-local'), [
    'route del default via 172.17.0.1 dev eth0',
    'addr del 172.17.0.2/16 dev eth0',
    'link set br0 address d6:2d:d1:dd:de:63',
    'addr add 169.254.35.2/32 dev br0',
    'route add 172.17.0.0/16 dev br0 scope link src 169.254.35.2 proto static',
    'route add default via 172.17.0.1 dev br0 src 169.254.35.2',
  ]);
});

test('readdress commands, Calico: the on-link route is deleted explicitly (the kernel only drops connected ones) and comes back first', async () => {
  // These are the commands test/fixtures/net/capture.sh ran to make calico-bridged.jsonl.
  assert.equal(readdressCommands(calicoEth0, calicoNic, await view('calico'), 'link-local'), [
    'route del default via 169.254.1.1 dev eth0',
    'route del 169.254.1.1/32 dev eth0',
    'addr del 10.244.1.5/32 dev eth0',
    'link set br0 address f6:74:2f:b3:e5:8f',
    'addr add 169.254.187.126/32 dev br0',
    'route add 169.254.1.1/32 dev br0 scope link src 169.254.187.126',
    'route add 10.244.1.5/32 dev br0 scope link src 169.254.187.126 proto static',
    'route add default via 169.254.1.1 dev br0 onlink src 169.254.187.126',
  ]);
});

test('readdress commands re-entered on a readdressed namespace only set the bridge MAC again', async () => {
  assert.equal(readdressCommands(dockerEth0, dockerNic, await view('bridged'), 'link-local'), ['link set br0 address d6:2d:d1:dd:de:63']);
  assert.equal(readdressCommands(calicoEth0, calicoNic, await view('calico-bridged'), 'link-local'), ['link set br0 address f6:74:2f:b3:e5:8f']);
});

test('the bridge address comes from the VM MAC: the same on every start, different for another MAC', async () => {
  const first = await plan(docker, await view('docker'));
  const again = await plan(docker, await view('docker'));
  assert.equal(first.nics[0]!.bridgeAddress, DOCKER_BRIDGE);
  assert.equal(again.nics[0]!.bridgeAddress, DOCKER_BRIDGE);
  assert.is(first.nics[0]!.bridgeMac, 'd6:2d:d1:dd:de:63');
  assert.equal((await plan(calico, await view('calico'))).nics[0]!.bridgeAddress, CALICO_BRIDGE);
  assert.equal(first.lines, readdressCommands(dockerEth0, dockerNic, await view('docker'), 'link-local').map((c) => `ip ${c}`));
});

test('the bridge address avoids addresses in use, gateways and routed prefixes anywhere in the namespace', async () => {
  const sample = await view('docker');
  sample.links.find((l) => l.ifname === 'lo')!.addr_info!.push({ family: 'inet', local: '169.254.35.2', prefixlen: 32, scope: 'host' });
  sample.routes.push(
    { type: 'unicast', dst: '10.9.0.0/16', gateway: '169.254.35.3', dev: 'eth0', flags: ['onlink'] },
    { type: 'unicast', dst: '169.254.35.4/30', dev: 'eth0', scope: 'link', flags: [] },
    { type: 'unicast', dst: '169.254.35.8', dev: 'eth0', scope: 'link', flags: [] },
  );
  const { nics } = await plan(docker, sample);
  assert.equal(nics[0]!.bridgeAddress, { address: '169.254.35.9', prefix: 32 }, '.2 in use, .3 a gateway, .4-.7 routed, .8 a host route');
});

test('re-entered, the bridge keeps the address it already has', async () => {
  const sample = await view('bridged');
  sample.links.find((l) => l.ifname === 'br0')!.addr_info![0]!.local = '169.254.99.9';
  const { nics, lines } = await plan(docker, sample);
  assert.equal(nics[0]!.bridgeAddress, { address: '169.254.99.9', prefix: 32 });
  assert.equal(lines, ['ip link set br0 address d6:2d:d1:dd:de:63']);
});

test('restore, Docker: bridge routes and address off, the address back with its broadcast, then the default route', async () => {
  assert.equal(restoreCommands(dockerEth0, dockerNic, await view('bridged')), [
    'route del default via 172.17.0.1 dev br0',
    'route del 172.17.0.0/16 dev br0',
    'addr del 169.254.35.2/32 dev br0',
    'addr add 172.17.0.2/16 brd 172.17.255.255 dev eth0',
    'route add default via 172.17.0.1 dev eth0',
  ]);
});

test('restore, Calico: the /32 without brd, the on-link route before the onlink default (captured in the other order)', async () => {
  assert.equal(calicoEth0.routes.map((r) => r.dst), ['default', '169.254.1.1/32']);
  assert.equal(restoreCommands(calicoEth0, calicoNic, await view('calico-bridged')), [
    'route del default via 169.254.1.1 dev br0',
    'route del 10.244.1.5/32 dev br0',
    'route del 169.254.1.1/32 dev br0',
    'addr del 169.254.187.126/32 dev br0',
    'addr add 10.244.1.5/32 dev eth0',
    'route add 169.254.1.1/32 dev eth0 scope link',
    'route add default via 169.254.1.1 dev eth0 onlink',
  ]);
});

test('restore skips what is already there: nothing on an untouched namespace, only the missing route on a half-restored one', async () => {
  const untouched = await view('docker');
  assert.equal(restoreCommands(dockerEth0, dockerNic, untouched), []);
  const halfway = { ...untouched, routes: untouched.routes.filter((r) => r.dst !== 'default') };
  assert.equal(restoreCommands(dockerEth0, dockerNic, halfway), ['route add default via 172.17.0.1 dev eth0']);
  const { bridgeAddress: _none, ...withoutAddress } = dockerNic;
  assert.not.ok(restoreCommands(dockerEth0, withoutAddress, await view('bridged')).some((c) => c.startsWith('addr del')), 'no bridge address recorded: none deleted');
});

test('subnet mode re-entered on a readdressed namespace only sets the bridge MAC again', async () => {
  const nic = { ...dockerNic, bridgeAddress: { address: '172.17.255.254', prefix: 16 } };
  assert.equal(readdressCommands(dockerEth0, nic, await view('subnet-bridged'), 'subnet'), ['link set br0 address d6:2d:d1:dd:de:63']);
});

test('restore in subnet mode leaves the kernel\'s connected route on the bridge alone (it goes with the address)', async () => {
  const nic = { ...dockerNic, bridgeAddress: { address: '172.17.255.254', prefix: 16 } };
  assert.equal(restoreCommands(dockerEth0, nic, await view('subnet-bridged')), [
    'route del default via 172.17.0.1 dev br0',
    'route del 172.17.0.2/32 dev br0',
    'addr del 172.17.255.254/16 dev br0',
    'addr add 172.17.0.2/16 brd 172.17.255.255 dev eth0',
    'route add default via 172.17.0.1 dev eth0',
  ]);
});

test.run();
