// Which container interfaces the VM takes over, and what is recorded about each (src/net/capture.ts),
// on real `ip -json` samples.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selectInterfaces, toRoute } from '../../../src/net/capture.ts';
import { view } from './samples.ts';

const names = (selection: { interfaces: { name: string }[] }) => selection.interfaces.map((i) => i.name);

test('auto takes the links with IPv4 and leaves out loopback, bridges, taps and bridge ports silently', async () => {
  const selection = selectInterfaces(await view('mixed'), 'auto');
  assert.equal(names(selection), ['eth0', 'eth2'], 'lo, brx (bridge), tapx (tap) and portx (on brx) all have IPv4 but are not handed over');
  assert.equal(selection.skipped, ['eth1 (no IPv4 address)'], 'only the IPv6-only link is reported, with its reason');
});

test('auto orders the interfaces by ifindex, not by the order ip printed them', async () => {
  const sample = await view('mixed');
  const reversed = { ...sample, links: [...sample.links].reverse() };
  assert.equal(names(selectInterfaces(reversed, 'auto')), ['eth0', 'eth2']);
  const twoReversed = await view('two-networks');
  twoReversed.links.reverse();
  assert.equal(names(selectInterfaces(twoReversed, 'auto')), ['eth0', 'eth1']);
});

test('auto with nothing to hand over is an error (a bridged namespace has only bridge, port and tap)', async () => {
  assert.throws(() => selectInterfaces({ links: [], routes: [] }, 'auto'), /^no interface with an IPv4 address to hand over \(network\.interfaces: auto found none\); is the container attached to a network\?$/);
  const bridged = await view('bridged');
  assert.throws(() => selectInterfaces(bridged, 'auto'), /auto found none/);
});

test('a named interface that does not exist is an error listing the interfaces present (without loopback)', async () => {
  const sample = await view('mixed');
  assert.throws(() => selectInterfaces(sample, ['eth0', 'eth9']), (error: Error) => error.message === 'interface eth9 (network.interfaces) does not exist; present: eth0, eth1, brx, portx, tapx, eth2');
  assert.throws(() => selectInterfaces({ links: sample.links.filter((l) => l.ifname === 'lo'), routes: [] }, ['eth0']), (error: Error) => error.message === 'interface eth0 (network.interfaces) does not exist; present: none');
});

test('a named interface without IPv4 is an error naming it', async () => {
  const sample = await view('mixed');
  assert.throws(() => selectInterfaces(sample, ['eth1']), (error: Error) => error.message === 'interface eth1 has no IPv4 address to hand over');
});

test('a named list keeps its own order and reports nothing skipped', async () => {
  const selection = selectInterfaces(await view('mixed'), ['eth2', 'eth0']);
  assert.equal(names(selection), ['eth2', 'eth0']);
  assert.equal(selection.skipped, []);
});

test("Docker's eth0 is recorded whole: index, MAC, MTU, IPv4 with its broadcast, global IPv6 only, its routes", async () => {
  assert.equal(selectInterfaces(await view('docker'), 'auto').interfaces, [
    {
      name: 'eth0',
      index: 2,
      mac: '02:42:ac:11:00:02',
      mtu: 1500,
      ipv4: [{ address: '172.17.0.2', prefix: 16, broadcast: '172.17.255.255' }],
      ipv6: [{ address: '2001:db8:17::2', prefix: 64 }],
      routes: [
        { dst: 'default', gateway: '172.17.0.1', scope: 'global', protocol: 'boot' },
        { dst: '172.17.0.0/16', scope: 'link', protocol: 'kernel', src: '172.17.0.2' },
      ],
    },
  ]);
});

test('the link-local IPv6 address is left out, and a link with only link-local IPv6 records none', async () => {
  const [eth0] = selectInterfaces(await view('docker'), 'auto').interfaces;
  assert.not.ok(eth0!.ipv6.some((a) => a.address.startsWith('fe80:')), 'fe80::42:acff:fe11:2 is in the sample');
  const [eth0OfTwo] = selectInterfaces(await view('two-networks'), 'auto').interfaces;
  assert.equal(eth0OfTwo!.ipv6, []);
});

test("Calico: the /32 address, the on-link host route to 169.254.1.1 as a /32 and the onlink default", async () => {
  const [eth0] = selectInterfaces(await view('calico'), 'auto').interfaces;
  assert.equal(eth0!.ipv4, [{ address: '10.244.1.5', prefix: 32 }], 'no broadcast on a /32');
  assert.is(eth0!.mtu, 1440);
  assert.equal(eth0!.routes, [
    { dst: 'default', gateway: '169.254.1.1', onlink: true, scope: 'global', protocol: 'boot' },
    { dst: '169.254.1.1/32', scope: 'link', protocol: 'boot' },
  ]);
});

test('routes are kept per interface: each gets only its own, and only unicast ones (no local route)', async () => {
  const [eth0, eth2] = selectInterfaces(await view('mixed'), 'auto').interfaces;
  assert.equal(eth0!.routes, [
    { dst: '10.1.0.0/24', scope: 'link', protocol: 'kernel', src: '10.1.0.2' },
    { dst: '10.50.0.0/16', gateway: '10.1.0.1', scope: 'global', protocol: 'boot', metric: 100 },
  ], 'the sample has "local 10.1.0.77 dev eth0" in the main table');
  assert.equal(eth2!.routes.map((r) => r.dst), ['default', '10.5.0.0/24']);
  const [a, b] = selectInterfaces(await view('two-networks'), 'auto').interfaces;
  assert.equal(a!.routes.map((r) => r.dst), ['default', '172.18.0.0/16']);
  assert.equal(b!.routes.map((r) => r.dst), ['172.19.0.0/16'], 'the default route belongs to eth0 only');
});

test('every IPv4 address is kept, the broadcast exactly where one was set', async () => {
  const [eth0, eth2] = selectInterfaces(await view('mixed'), 'auto').interfaces;
  assert.equal(eth0!.ipv4, [{ address: '10.1.0.2', prefix: 24 }], 'added without brd: no broadcast recorded');
  assert.equal(eth2!.ipv4, [{ address: '10.5.0.2', prefix: 24, broadcast: '10.5.0.255' }, { address: '10.6.0.9', prefix: 32 }]);
});

test('toRoute: a host route gets /32, CIDRs and default stay, onlink only from the flag, prefsrc becomes src', () => {
  assert.equal(toRoute({ dst: '169.254.1.1', dev: 'eth0', scope: 'link', flags: [] }), { dst: '169.254.1.1/32', scope: 'link' });
  assert.equal(toRoute({ dst: '10.0.0.0/8', gateway: '10.1.0.1', flags: ['onlink'], metric: 0 }), { dst: '10.0.0.0/8', gateway: '10.1.0.1', onlink: true, metric: 0 });
  assert.equal(toRoute({ dst: 'default', gateway: '172.17.0.1', flags: ['linkdown'], protocol: 'dhcp', prefsrc: '172.17.0.2' }), { dst: 'default', gateway: '172.17.0.1', protocol: 'dhcp', src: '172.17.0.2' });
  assert.equal(toRoute({ dst: '2001:db8::/64' }), { dst: '2001:db8::/64' }, 'IPv6 prefixes are not given /32');
});

test.run();
