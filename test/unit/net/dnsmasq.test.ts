// What the VM is told by DHCP (src/net/dnsmasq-view.ts) and the dnsmasq.conf the dhcp stage renders
// from it (templates/dnsmasq.conf.mustache through src/stages/dhcp.ts), for the networks startvm meets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dhcp from '../../../src/stages/dhcp.ts';
import { dnsmasqView, needsForwarding } from '../../../src/net/dnsmasq-view.ts';
import { renderDnsmasqConfig } from '../../../src/net/dnsmasq-config.ts';
import Mustache from 'mustache';
import { readFileSync } from 'node:fs';
import { parseResolvConf } from '../../../src/net/resolv.ts';
import type { DhcpOptions } from '../../../src/profile/types.ts';
import type { CapturedNetwork, PreparedNic } from '../../../src/net/types.ts';
import { DHCP_DEFAULTS, DOCKER_HOSTS, DOCKER_USER_RESOLV, captured, planContext, prepared, sampleRunner } from './samples.ts';

const FILES = { leaseFile: '/run/startvm/dnsmasq/leases', pidFile: '/run/startvm/dnsmasq/dnsmasq.pid', logFile: '/run/startvm/dnsmasq/dnsmasq.log' };
const KUBERNETES_RESOLV = { nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };

const dockerDefault = await captured('docker');
const userNetwork = await captured('docker', { resolver: parseResolvConf(DOCKER_USER_RESOLV), hosts: DOCKER_HOSTS });
const calico = await captured('calico', { resolver: KUBERNETES_RESOLV, hostname: 'nginx-7c5ddbdf54-x8v2q' });
const twoNetworks = await captured('two-networks');

const viewOf = (network: CapturedNetwork, options: Partial<DhcpOptions> = {}, nics: PreparedNic[] = prepared(network)) =>
  dnsmasqView(network, nics, { ...DHCP_DEFAULTS, ...options }, FILES);
const nic0 = (network: CapturedNetwork, options: Partial<DhcpOptions> = {}, nics?: PreparedNic[]) => viewOf(network, options, nics).nics[0]!;

/** The config the dhcp stage writes, through its own plan (same template, same rendering), comment lines left out. */
async function rendered(network: CapturedNetwork, options: Partial<DhcpOptions> = {}, nics: PreparedNic[] = prepared(network)): Promise<string[]> {
  const ctx = planContext<DhcpOptions>({ ...DHCP_DEFAULTS, ...options }, { captured: network, nics }, sampleRunner('docker'));
  const lines = await dhcp.plan!(ctx);
  assert.is(lines[0], 'write /run/startvm/dnsmasq/dnsmasq.conf:');
  assert.is(lines.at(-1), 'start dnsmasq --conf-file=/run/startvm/dnsmasq/dnsmasq.conf --conf-file=- (started ahead; it reads the file once startvm names it on stdin)');
  return lines.slice(1, -1).map((line) => line.replace(/^ {2}/, ''));
}

/** The config contains this exact line (the message shows the whole config). */
const has = (config: string[], line: string, why?: string) => assert.ok(config.includes(line), `${why ? `${why}: ` : ''}"${line}" is not in\n${config.join('\n')}`);
/** No line of the config starts with this. */
const lacks = (config: string[], start: string, why?: string) => assert.not.ok(config.some((l) => l.startsWith(start)), `${why ? `${why}: ` : ''}a line starts with "${start}" in\n${config.join('\n')}`);

test('forwarding: needed exactly when a resolver is loopback, unless dns says forward or direct', () => {
  assert.is(needsForwarding(dockerDefault, 'auto'), false);
  assert.is(needsForwarding(userNetwork, 'auto'), true, '127.0.0.11');
  assert.is(needsForwarding({ ...dockerDefault, resolver: { nameservers: ['192.0.2.53', '::1'], search: [], options: [] } }, 'auto'), true, '::1');
  assert.is(needsForwarding(userNetwork, 'direct'), false);
  assert.is(needsForwarding(dockerDefault, 'forward'), true);
});

test("Docker's default bridge: address, netmask, router, MTU, the host's resolvers, search, hostname, no option 121", () => {
  assert.equal(viewOf(dockerDefault), {
    nics: [{
      tag: 'nic0', iface: 'eth0', bridge: 'br0', mac: '02:42:ac:11:00:02', address: '172.17.0.2', prefix: 16, netmask: '255.255.0.0',
      leaseTime: 'infinite', sharedNetwork: true, router: '172.17.0.1', mtu: 1500, hostname: 'web-1',
      dnsServers: '192.0.2.53,198.51.100.53', domain: 'example.com', search: 'example.com',
    }],
    dns: { forward: false, upstreams: ['192.0.2.53', '198.51.100.53'], hostRecords: [] },
    ...FILES,
  });
});

test('a loopback resolver (127.0.0.11): dnsmasq forwards to it, the VM asks the bridge address and gets a route to it', () => {
  const view = viewOf(userNetwork);
  assert.equal(view.dns, {
    forward: true,
    upstreams: ['127.0.0.11'],
    hostRecords: ['db,4f2a1c0d9e8b,db_1,172.18.0.3', 'registry.example.com,203.0.113.7', 'v6.example.com,2001:db8::7', 'good,198.51.100.10', 'web-1,172.17.0.2'],
  }, '/etc/hosts entries without localhost and the IPv6 boilerplate');
  const [nic] = view.nics;
  assert.is(nic!.dnsServers, '169.254.35.2');
  assert.is(nic!.classlessRoutes, '169.254.35.2/32,0.0.0.0,0.0.0.0/0,172.17.0.1', 'option 121 replaces the router option, so the default route is in it too');
  assert.is(nic!.router, '172.17.0.1');
  assert.equal([nic!.domain, nic!.search], ['a.example', 'a.example,b.example']);
});

test('Calico /32: netmask 255.255.255.255, option 121 with 169.254.1.1/32 on-link, then the default route', () => {
  const nic = nic0(calico, {}, prepared(calico, ['169.254.187.126/32']));
  assert.equal(
    [nic.address, nic.prefix, nic.netmask, nic.router, nic.mtu, nic.sharedNetwork, nic.hostname],
    ['10.244.1.5', 32, '255.255.255.255', '169.254.1.1', 1440, true, 'nginx-7c5ddbdf54-x8v2q'],
  );
  assert.is(nic.classlessRoutes, '169.254.1.1/32,0.0.0.0,0.0.0.0/0,169.254.1.1');
  assert.is(nic.dnsServers, '10.96.0.10');
  assert.is(nic.search, 'default.svc.cluster.local,svc.cluster.local,cluster.local');
});

test('Calico with forwarding: the route to the forwarder comes after the on-link /32 and before the default', () => {
  const nic = nic0(calico, { dns: 'forward' }, prepared(calico, ['169.254.187.126/32']));
  assert.is(nic.classlessRoutes, '169.254.1.1/32,0.0.0.0,169.254.187.126/32,0.0.0.0,0.0.0.0/0,169.254.1.1');
});

test('two networks: tags nic0 and nic1, the router only on the NIC with the default route', () => {
  const [first, second] = viewOf(twoNetworks).nics;
  assert.equal([first!.tag, first!.iface, first!.bridge, first!.router, first!.mtu], ['nic0', 'eth0', 'br0', '172.18.0.1', 1500]);
  assert.equal([second!.tag, second!.iface, second!.bridge, second!.mac, second!.address, second!.mtu], ['nic1', 'eth1', 'br1', '02:42:ac:13:00:03', '172.19.0.3', 1450]);
  assert.is(second!.router, undefined);
  assert.is(first!.classlessRoutes, undefined);
  assert.is(second!.classlessRoutes, undefined, 'no routes but the connected one: nothing to say');
});

test('two networks with forwarding: each NIC asks its own bridge and gets a route to it, the default only on nic0', () => {
  const [first, second] = viewOf(twoNetworks, { dns: 'forward' }).nics;
  assert.equal([first!.dnsServers, first!.classlessRoutes], ['169.254.35.2', '169.254.35.2/32,0.0.0.0,0.0.0.0/0,172.18.0.1']);
  assert.equal([second!.dnsServers, second!.classlessRoutes], ['169.254.36.7', '169.254.36.7/32,0.0.0.0']);
});

test('option 121 for any on-link route besides the subnet, always with the default route', () => {
  const eth0 = dockerDefault.interfaces[0]!;
  const extraRoute = { ...dockerDefault, interfaces: [{ ...eth0, routes: [...eth0.routes, { dst: '10.99.0.0/16', scope: 'link', protocol: 'boot' }] }] };
  assert.is(nic0(extraRoute).classlessRoutes, '10.99.0.0/16,0.0.0.0,0.0.0.0/0,172.17.0.1');
});

test('option 121 for a default gateway outside the subnet, even without a host route to it', () => {
  const eth0 = calico.interfaces[0]!;
  const onlinkOnly = { ...calico, interfaces: [{ ...eth0, routes: eth0.routes.filter((r) => r.dst === 'default') }] };
  assert.is(nic0(onlinkOnly).classlessRoutes, '0.0.0.0/0,169.254.1.1');
});

test('no option 121 for the routes the addresses themselves make: the subnet route, even static, and connected routes', () => {
  const eth0 = dockerDefault.interfaces[0]!;
  const staticSubnet = { ...dockerDefault, interfaces: [{ ...eth0, routes: eth0.routes.map((r) => (r.gateway ? r : { ...r, protocol: 'static' })) }] };
  assert.is(nic0(staticSubnet).classlessRoutes, undefined, 'a static 172.17.0.0/16');
  const secondary = { ...dockerDefault, interfaces: [{ ...eth0, routes: [...eth0.routes, { dst: '10.7.0.0/24', scope: 'link', protocol: 'kernel', src: '10.7.0.2' }] }] };
  assert.is(nic0(secondary).classlessRoutes, undefined, "a secondary address's connected route");
});

test('the router is the default route\'s gateway, never another gateway route\'s', async () => {
  const mixed = await captured('mixed');
  const [eth0, eth2] = viewOf(mixed).nics;
  assert.is(eth0!.router, undefined, 'eth0 has only 10.50.0.0/16 via 10.1.0.1');
  assert.is(eth0!.classlessRoutes, '10.50.0.0/16,10.1.0.1');
  assert.is(eth2!.router, '10.5.0.1');
});

test('dns: direct hands the VM the resolvers itself even with a loopback one, which it leaves out', () => {
  const mixed = { ...userNetwork, resolver: { ...userNetwork.resolver, nameservers: ['127.0.0.11', '192.0.2.53'] } };
  const view = viewOf(mixed, { dns: 'direct' });
  assert.equal(view.dns, { forward: false, upstreams: ['127.0.0.11', '192.0.2.53'], hostRecords: [] });
  assert.is(view.nics[0]!.dnsServers, '192.0.2.53');
  assert.is(view.nics[0]!.classlessRoutes, undefined);
  assert.is(nic0(userNetwork, { dns: 'direct' }).dnsServers, undefined, 'only 127.0.0.11: no DNS server at all rather than an unreachable one');
});

test('dns: forward makes the bridge the VM\'s resolver even when the resolvers are reachable', () => {
  const view = viewOf({ ...dockerDefault, hosts: DOCKER_HOSTS }, { dns: 'forward' });
  assert.equal([view.dns.forward, view.dns.upstreams, view.dns.hostRecords.length], [true, ['192.0.2.53', '198.51.100.53'], 5]);
  assert.is(view.nics[0]!.dnsServers, '169.254.35.2');
});

test('the hostname is the first label when valid, and left out when not', () => {
  const hostnameOf = (hostname: string) => nic0({ ...dockerDefault, hostname }).hostname;
  assert.is(hostnameOf('web-01.example.com'), 'web-01');
  assert.is(hostnameOf('a'.repeat(63)), 'a'.repeat(63));
  for (const bad of ['my_host', '-web', 'web-', 'a'.repeat(64), '', 'web host']) assert.is(hostnameOf(bad), undefined, JSON.stringify(bad));
});

test('IPv6 resolvers are not handed to the VM (DHCPv4 cannot carry them)', () => {
  const resolver = (nameservers: string[]) => ({ ...dockerDefault, resolver: { nameservers, search: [], options: [] } });
  assert.is(nic0(resolver(['2001:4860:4860::8888', '192.0.2.53'])).dnsServers, '192.0.2.53');
  assert.is(nic0(resolver(['2001:4860:4860::8888'])).dnsServers, undefined);
  assert.equal(viewOf(resolver(['2001:4860:4860::8888'])).dns.upstreams, ['2001:4860:4860::8888'], 'still an upstream when forwarding');
});

test('no search domains: neither domain-name nor domain-search', () => {
  const nic = nic0({ ...dockerDefault, resolver: { nameservers: ['192.0.2.53'], search: [], options: [] } });
  assert.equal([nic.domain, nic.search], [undefined, undefined]);
});

test('a bridge address inside the subnet (mode subnet): no shared network, no route to the forwarder', () => {
  const nics = prepared(userNetwork, ['172.17.255.254/16']);
  const nic = nic0(userNetwork, {}, nics);
  assert.is(nic.sharedNetwork, false);
  assert.is(nic.dnsServers, '172.17.255.254');
  assert.is(nic.classlessRoutes, undefined, 'the forwarder is on the subnet and the default gateway too');
});

test("the rendered config for Docker's default bridge, line by line", async () => {
  assert.equal(await rendered(dockerDefault), [
    'bind-interfaces',
    'interface=br0',
    'except-interface=lo',
    'port=0',
    'dhcp-authoritative',
    'dhcp-ignore=tag:!known',
    'dhcp-leasefile=/run/startvm/dnsmasq/leases',
    'pid-file=/run/startvm/dnsmasq/dnsmasq.pid',
    'log-facility=/run/startvm/dnsmasq/dnsmasq.log',
    'shared-network=br0,172.17.0.2',
    'dhcp-range=tag:nic0,172.17.0.2,static,255.255.0.0,infinite',
    'dhcp-host=02:42:ac:11:00:02,set:nic0,172.17.0.2,web-1,infinite',
    'dhcp-option=tag:nic0,option:router,172.17.0.1',
    'dhcp-option=tag:nic0,option:mtu,1500',
    'dhcp-option=tag:nic0,option:dns-server,192.0.2.53,198.51.100.53',
    'dhcp-option=tag:nic0,option:domain-name,example.com',
    'dhcp-option=tag:nic0,option:domain-search,example.com',
  ]);
});

test('the rendered config answers only the known VM MAC and leases for good', async () => {
  const config = await rendered(calico, {}, prepared(calico, ['169.254.187.126/32']));
  has(config, 'dhcp-ignore=tag:!known');
  has(config, 'dhcp-host=96:1f:3a:5c:02:7e,set:nic0,10.244.1.5,nginx-7c5ddbdf54-x8v2q,infinite');
  has(config, 'dhcp-range=tag:nic0,10.244.1.5,static,255.255.255.255,infinite');
  const shorter = await rendered(dockerDefault, { leaseTime: '12h' });
  has(shorter, 'dhcp-host=02:42:ac:11:00:02,set:nic0,172.17.0.2,web-1,12h', 'leaseTime reaches dhcp-host');
  has(shorter, 'dhcp-range=tag:nic0,172.17.0.2,static,255.255.0.0,12h', 'and dhcp-range');
});

test('the rendered config is not HTML-escaped: slashes in routes and paths, commas in the search list stay intact', async () => {
  const text = (await rendered(calico, {}, prepared(calico, ['169.254.187.126/32']))).join('\n');
  assert.not.match(text, /&#x|&amp;|&lt;|&gt;|&quot;/);
  assert.ok(text.includes('dhcp-option=tag:nic0,option:classless-static-route,169.254.1.1/32,0.0.0.0,0.0.0.0/0,169.254.1.1'), text);
  assert.ok(text.includes('dhcp-option=tag:nic0,option:domain-search,default.svc.cluster.local,svc.cluster.local,cluster.local'), text);
  assert.ok(text.includes('dhcp-leasefile=/run/startvm/dnsmasq/leases'), text);
});

test('the rendered config with forwarding: DNS on, no resolv.conf or hosts file, the loopback upstream, host-records', async () => {
  const config = await rendered(userNetwork);
  lacks(config, 'port=', 'port=0 would switch DNS off');
  for (const line of ['no-resolv', 'no-hosts', 'server=127.0.0.11', 'host-record=db,4f2a1c0d9e8b,db_1,172.18.0.3', 'host-record=v6.example.com,2001:db8::7', 'dhcp-option=tag:nic0,option:dns-server,169.254.35.2']) has(config, line);
  assert.not.ok(config.some((line) => line.includes('localhost')), 'no localhost host-record');
});

test('the rendered config without forwarding: port=0 and no upstreams', async () => {
  const config = await rendered(userNetwork, { dns: 'direct' });
  has(config, 'port=0');
  for (const start of ['server=', 'host-record=', 'no-resolv']) lacks(config, start);
});

test('the rendered config: shared-network only when the bridge address is outside the subnet', async () => {
  has(await rendered(dockerDefault), 'shared-network=br0,172.17.0.2');
  lacks(await rendered(dockerDefault, {}, prepared(dockerDefault, ['172.17.255.254/16'])), 'shared-network', 'bridge 172.17.255.254/16');
});

test('the rendered config for two networks: both bridges, a router for nic0 and an empty router option for nic1', async () => {
  const config = await rendered(twoNetworks);
  assert.equal(config.filter((line) => line.startsWith('interface=')), ['interface=br0', 'interface=br1']);
  has(config, 'dhcp-option=tag:nic0,option:router,172.18.0.1');
  has(config, 'dhcp-option=tag:nic1,option:router', 'an empty router option: the VM must not route through eth1');
  has(config, 'dhcp-option=tag:nic1,option:mtu,1450');
  has(config, 'dhcp-host=02:42:ac:13:00:03,set:nic1,172.19.0.3,web-1,infinite');
});

test('the rendered config leaves out an invalid hostname instead of sending it', async () => {
  const config = await rendered({ ...dockerDefault, hostname: 'my_host' });
  assert.ok(config.includes('dhcp-host=02:42:ac:11:00:02,set:nic0,172.17.0.2,infinite'), config.join('\n'));
});

test('the shipped template renders from its build-time tokens exactly as parsed at run time; an edited one is parsed', () => {
  const shipped = readFileSync(new URL('../../../templates/dnsmasq.conf.mustache', import.meta.url), 'utf8');
  const asParsedNow = (template: string, view: ReturnType<typeof viewOf>) => Mustache.render(template, view, {}, { escape: (s: string) => s });
  for (const view of [viewOf(dockerDefault), viewOf(userNetwork), viewOf(calico, { hostname: true } as Partial<DhcpOptions>), viewOf(twoNetworks)]) {
    assert.is(renderDnsmasqConfig(shipped, view), asParsedNow(shipped, view));
  }
  const edited = `${shipped}dhcp-option=option:ntp-server,192.0.2.123\n`;
  // Which of the two parsed at run time: count the parses (the view first: it names bridges through mustache too).
  const view = viewOf(dockerDefault);
  const parse = Mustache.Writer.prototype.parse;
  const parsed: string[] = [];
  Mustache.Writer.prototype.parse = function (template, tags) {
    parsed.push(template);
    return parse.call(this, template, tags);
  };
  try {
    Mustache.clearCache();
    renderDnsmasqConfig(shipped, view);
    assert.equal(parsed, [], 'the shipped template is not parsed at run time');
    assert.ok(renderDnsmasqConfig(edited, view).endsWith('dhcp-option=option:ntp-server,192.0.2.123\n'));
    assert.equal(parsed, [edited]);
  } finally {
    Mustache.Writer.prototype.parse = parse;
  }
});

test('dhcp prepare: a dnsmasq started ahead that is stopped before the stage (an abort) is no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const calls: string[][] = [];
    const run = async (file: string, args: readonly string[]) => {
      calls.push([file, ...args]);
      throw new Error('dnsmasq failed: interrupted by SIGTERM');
    };
    const ctx = { ...planContext(DHCP_DEFAULTS, {}, run as never), runDir: '/nonexistent/run' };
    const early = dhcp.prepare!(ctx);
    await new Promise((resolve) => setTimeout(resolve, 10)); // its rejection has settled, unawaited
    assert.equal(unhandled, []);
    assert.equal(calls, [['dnsmasq', '--conf-file=/nonexistent/run/dnsmasq/dnsmasq.conf', '--conf-file=-']]);
    await early.dispose(); // and letting go of it does not throw either
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test.run();
