// The network stages against the real kernel: a "Docker host" namespace with a bridge, container
// namespaces on veths, startvm running inside the container, and busybox udhcpc playing the VM on
// the VM's port of the container bridge. Each scenario asserts what the VM received and what the
// network can reach.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import {
  cleanupAll, connectContainer, createContainer, createHost, createVmPort, ensureTools, execInContainer, execInNamespace, snapshot, ipNs, runDhcpClient, startDnsmasq, type Container,
} from './harness.ts';
import { networkProfile, runStartvm } from './support.ts';
import { root } from '../helpers/paths.ts';

test.before(async () => {
  await ensureTools();
});
test.after.each(() => cleanupAll());

const ping = (ns: string | { ns: string }, address: string) => execInNamespace(ns, 'busybox', ['ping', '-c', '1', '-W', '2', address], { reject: false });

async function ipJson(ns: string, args: string[]): Promise<any[]> {
  return JSON.parse(await ipNs(ns, ['-json', ...args]));
}

async function expectStarted(ctr: Container, profile = networkProfile(), env: NodeJS.ProcessEnv = {}) {
  const run = await runStartvm(ctr, profile, env);
  assert.is(run.exitCode, 0, run.stderr);
  return run;
}

test("Docker's default bridge: the VM gets the container's address, gateway, DNS, search domains and hostname", async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'web1', nameservers: ['192.0.2.53', '192.0.2.54'], search: ['corp.example', 'example.org'] });
  const originalMac = ctr.nics[0]!.mac;
  const vm = await createVmPort(ctr);
  const run = await expectStarted(ctr);
  assert.match(run.stderr, /\[dhcp\] done/);
  // The dnsmasq serving is the one started ahead of the dhcp stage: it read its stdin first (held
  // open until the config file was written), then that file, which the lease below comes from.
  const dnsmasqPid = readFileSync(`${run.runDir}/dnsmasq/dnsmasq.pid`, 'utf8').trim();
  assert.equal(readFileSync(`/proc/${dnsmasqPid}/cmdline`, 'utf8').split('\0').slice(1, -1), [`--conf-file=${run.runDir}/dnsmasq/dnsmasq.conf`, '--conf-file=-']);

  const lease = await runDhcpClient(vm, 'eth0', { apply: true });
  assert.ok(lease.received, `no lease: ${lease.stderr}`);
  assert.is(lease.received.ip, '172.17.0.2');
  assert.is(lease.received.subnet, '255.255.0.0');
  assert.is(lease.received.router, '172.17.0.1');
  assert.is(lease.received.dns, '192.0.2.53 192.0.2.54');
  assert.is(lease.received.search, 'corp.example example.org');
  assert.is(lease.received.domain, 'corp.example');
  assert.is(lease.received.hostname, 'web1');
  assert.is(lease.received.mtu, '1500');
  assert.is(lease.received.staticroutes, undefined, 'the router option is enough here');
  assert.is(lease.received.lease, '4294967295', 'infinite lease');

  // The container: eth0 has no address and a new locally administered MAC; br0 has a link-local /32.
  const links = await ipJson(ctr.ns, ['addr', 'show']);
  const eth0 = links.find((l) => l.ifname === 'eth0');
  const br0 = links.find((l) => l.ifname === 'br0');
  assert.equal(eth0.addr_info.filter((a: any) => a.family === 'inet'), []);
  assert.is.not(eth0.address, originalMac);
  assert.ok(Number.parseInt(eth0.address.slice(0, 2), 16) & 2, 'locally administered');
  assert.is(eth0.master, 'br0');
  const bridgeAddress = br0.addr_info.find((a: any) => a.family === 'inet');
  assert.match(bridgeAddress.local, /^169\.254\./);
  assert.is(bridgeAddress.prefixlen, 32);
  assert.not.ok(['169.254.1.1', '169.254.169.254'].includes(bridgeAddress.local));

  // The network reaches the VM at the container's address, from the host and from another container.
  await ipNs(host.ns, ['neigh', 'flush', 'all']);
  assert.is((await ping(host.ns, '172.17.0.2')).exitCode, 0);
  // The VM answers with the original MAC: the network's ARP entry for the address is unchanged.
  const neigh = await ipJson(host.ns, ['neigh', 'show', '172.17.0.2']);
  assert.is(neigh[0]?.lladdr, originalMac);
  const neighbour = await createContainer(host, { address: '172.17.0.3' });
  assert.is((await ping(neighbour.ns, '172.17.0.2')).exitCode, 0);
});

test('a user-defined network with resolver 127.0.0.11: the VM resolves through the forwarder, also /etc/hosts names', async () => {
  const host = await createHost({ address: '172.18.0.1' });
  const ctr = await createContainer(host, { address: '172.18.0.2', nameservers: ['127.0.0.11'], search: ['app.example'], hosts: ['172.18.0.9 legacy-db'] });
  // Docker's embedded DNS, played by a dnsmasq on 127.0.0.11 inside the container.
  await ipNs(ctr.ns, ['link', 'set', 'lo', 'up']);
  await startDnsmasq(ctr.ns, ['--listen-address=127.0.0.11', '--bind-interfaces', '--no-resolv', '--no-hosts', '--address=/api.app.example/172.18.0.7']);
  const vm = await createVmPort(ctr);
  await expectStarted(ctr);

  const lease = await runDhcpClient(vm, 'eth0', { apply: true });
  assert.ok(lease.received, lease.stderr);
  const bridgeAddress = (await ipJson(ctr.ns, ['-4', 'addr', 'show', 'br0']))[0].addr_info[0].local as string;
  assert.is(lease.received.dns, bridgeAddress, 'the VM gets the forwarder on the bridge, not 127.0.0.11');
  assert.is(lease.received.staticroutes, `${bridgeAddress}/32 0.0.0.0 0.0.0.0/0 172.18.0.1`, 'a route to the forwarder, and the default route in option 121');
  assert.equal(lease.applyErrors, []);

  const lookup = (name: string) => execInNamespace(vm, 'busybox', ['nslookup', '-type=a', name, bridgeAddress], { reject: false });
  const forwarded = await lookup('api.app.example');
  assert.match(String(forwarded.stdout), /172\.18\.0\.7/, String(forwarded.stdout) + String(forwarded.stderr));
  const fromHosts = await lookup('legacy-db');
  assert.match(String(fromHosts.stdout), /172\.18\.0\.9/, String(fromHosts.stdout) + String(fromHosts.stderr));
});

test('Calico style: a /32 address behind 169.254.1.1 gets classless routes and reaches the outside', async () => {
  const host = await createHost({ uplink: true });
  const ctr = await createContainer(host, { mode: 'routed', address: '10.244.1.5', nameservers: ['10.96.0.10'], search: ['default.svc.cluster.local', 'svc.cluster.local'] });
  const vm = await createVmPort(ctr);
  await expectStarted(ctr);

  const lease = await runDhcpClient(vm, 'eth0', { apply: true });
  assert.ok(lease.received, lease.stderr);
  assert.is(lease.received.ip, '10.244.1.5');
  assert.is(lease.received.subnet, '255.255.255.255');
  assert.is(lease.received.staticroutes, '169.254.1.1/32 0.0.0.0 0.0.0.0/0 169.254.1.1');
  assert.equal(lease.applyErrors, []);
  const bridgeAddress = (await ipJson(ctr.ns, ['-4', 'addr', 'show', 'br0']))[0].addr_info[0].local as string;
  assert.is.not(bridgeAddress, '169.254.1.1');

  // Proxy ARP on the host answers for 169.254.1.1; the VM reaches a machine beyond the host.
  assert.is((await ping(vm, host.uplink!.outsideAddress)).exitCode, 0);
  assert.is((await ping(host.uplink!.ns, '10.244.1.5')).exitCode, 0);
});

test('an overlay network with MTU 1450: the VM gets MTU 1450; bridge and VM port carry it', async () => {
  const host = await createHost({ mtu: 1450 });
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const vm = await createVmPort(ctr, { mtu: 1500 });
  await expectStarted(ctr);
  const lease = await runDhcpClient(vm, 'eth0');
  assert.is(lease.received?.mtu, '1450');
  const links = await ipJson(ctr.ns, ['link', 'show']);
  assert.is(links.find((l) => l.ifname === 'br0').mtu, 1450);
  assert.is(links.find((l) => l.ifname === 'vmport0').mtu, 1450);
});

test('two networks: both addresses handed over, exactly one default route', async () => {
  const front = await createHost({ address: '172.17.0.1' });
  const back = await createHost({ address: '172.20.0.1' });
  const ctr = await createContainer(front, { address: '172.17.0.2' });
  await connectContainer(ctr, back, { address: '172.20.0.2' });
  const vm0 = await createVmPort(ctr, { port: 'vmport0', mac: ctr.nics[0]!.mac });
  const vm1 = await createVmPort(ctr, { port: 'vmport1', mac: ctr.nics[1]!.mac });
  await expectStarted(ctr, networkProfile({ vmPorts: ['vmport0', 'vmport1'] }));

  const first = await runDhcpClient(vm0, 'eth0');
  const second = await runDhcpClient(vm1, 'eth0');
  assert.is(first.received?.ip, '172.17.0.2');
  assert.is(first.received?.router, '172.17.0.1');
  assert.is(second.received?.ip, '172.20.0.2');
  assert.is(second.received?.router, undefined, 'only the network with the default route sends a router');
  assert.is(second.received?.staticroutes, undefined);
  const bridges = (await ipJson(ctr.ns, ['link', 'show', 'type', 'bridge'])).map((l) => l.ifname).sort();
  assert.equal(bridges, ['br0', 'br1']);
});

test('NO_DHCP=true: the VM gets its address from the network\'s DHCP server through the bridge, no dnsmasq in the container', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  await startDnsmasq(host.ns, ['--bind-interfaces', '--interface=docker0', '--port=0', '--dhcp-range=172.17.0.0,static,255.255.0.0', `--dhcp-host=${ctr.nics[0]!.mac},172.17.0.2,infinite`]);
  const vm = await createVmPort(ctr);
  const run = await expectStarted(ctr, networkProfile(), { NO_DHCP: 'true' });
  assert.match(run.stderr, /\[dhcp\] skipped/);
  const pids = (await execa('ip', ['netns', 'pids', ctr.ns])).stdout.split('\n').filter(Boolean);
  assert.equal(pids, [], 'nothing left running in the container');

  const lease = await runDhcpClient(vm, 'eth0');
  assert.is(lease.received?.ip, '172.17.0.2');
  assert.is(lease.received?.serverid, '172.17.0.1', 'answered by the host-side server');
});

test('NO_DHCP=false keeps DHCP on: the container serves the VM', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const vm = await createVmPort(ctr);
  const run = await expectStarted(ctr, networkProfile(), { NO_DHCP: 'false' });
  assert.match(run.stderr, /\[dhcp\] done/);
  const lease = await runDhcpClient(vm, 'eth0');
  assert.is(lease.received?.ip, '172.17.0.2');
  assert.match(lease.received?.serverid ?? '', /^169\.254\./);
});

test('another container on the same host bridge gets no answer from the VM\'s DHCP server', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  await createVmPort(ctr);
  await expectStarted(ctr);
  const stranger = await createContainer(host, {});
  const attempt = await runDhcpClient(stranger, 'eth0', { tries: 2 });
  assert.is(attempt.received, null);
  // And a DISCOVER from a wrong MAC on the VM side is ignored too.
  const impostor = await createVmPort(ctr, { port: 'vmport9', mac: '02:00:00:00:00:99', up: true });
  await ipNs(ctr.ns, ['link', 'set', 'vmport9', 'master', 'br0']);
  assert.is((await runDhcpClient(impostor, 'eth0', { tries: 2 })).received, null);
});

test('readdress mode subnet: the bridge takes a free address from the top of the subnet, skipping one that answers ARP', async () => {
  const host = await createHost({ address: '172.21.0.1', prefix: 24 });
  const ctr = await createContainer(host, { address: '172.21.0.2' });
  await createContainer(host, { address: '172.21.0.254', gateway: null }); // holds the first candidate
  const vm = await createVmPort(ctr);
  const run = await expectStarted(ctr, networkProfile({ readdress: 'mode: subnet' }));
  assert.match(run.stderr, /172\.21\.0\.254 answered an ARP probe/);
  const bridge = (await ipJson(ctr.ns, ['-4', 'addr', 'show', 'br0']))[0].addr_info[0];
  assert.equal([bridge.local, bridge.prefixlen], ['172.21.0.253', 24]);
  const lease = await runDhcpClient(vm, 'eth0', { apply: true });
  assert.is(lease.received?.ip, '172.21.0.2');
  assert.is(lease.received?.router, '172.21.0.1');
  // With an address in the subnet the container itself still talks to the network.
  assert.is((await ping(ctr.ns, '172.21.0.1')).exitCode, 0);
  assert.is((await ping(ctr.ns, '172.21.0.2')).exitCode, 0, 'and to its VM');
});

test('plan reads the container network, prints every step and the QEMU command, and changes nothing', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'plan1' });
  const before = snapshot(ctr);
  const dir = mkdtempSync('/tmp/startvm-plan-');
  writeFileSync(`${dir}/vmlinuz`, '');
  writeFileSync(`${dir}/profile.yaml`, `version: 1\nvm: { qemu: /bin/true, accel: tcg, kernel: vmlinuz }\n`);
  const plan = await execInContainer(ctr, process.execPath, [`${root}bin/startvm`, 'plan', '--profile', `${dir}/profile.yaml`, '--run-dir', `${dir}/run`], { reject: false, env: { NO_COLOR: '1' } });
  assert.is(plan.exitCode, 0, String(plan.stderr));
  const out = String(plan.stdout);
  assert.match(out, /1\. capture\n   - read eth0: 172\.17\.0\.2\/16 mac 02:42:ac:11:00:02 mtu 1500; routes default via 172\.17\.0\.1, 172\.17\.0\.0\/16/);
  assert.match(out, /   - ip link add br0 type bridge\n/);
  assert.match(out, /   - ip tuntap add dev tap0 mode tap\n/);
  assert.match(out, /   - ip addr del 172\.17\.0\.2\/16 dev eth0\n/);
  assert.match(out, /   - ip addr add 169\.254\.\d+\.\d+\/32 dev br0\n/);
  assert.match(out, /   - start dnsmasq --conf-file=/);
  assert.match(out, /   - exec \/bin\/true .*-netdev tap,id=net0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02,host_mtu=1500/);
  assert.equal(snapshot(ctr), before);
  const json = await execInContainer(ctr, process.execPath, [`${root}bin/startvm`, 'plan', '--json', '--profile', `${dir}/profile.yaml`, '--run-dir', `${dir}/run`], { reject: false });
  const parsed = JSON.parse(String(json.stdout));
  assert.is(parsed.state.captured.interfaces[0].ipv4[0].address, '172.17.0.2');
  assert.is(parsed.state.captured.hostname, 'plan1');
  assert.equal(parsed.state.qemu.args.slice(0, 2), ['-name', 'startvm-plan1']);
});

test('the dnsmasq config is rendered from the profile\'s own template when one is given', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'tpl1' });
  const vm = await createVmPort(ctr);
  const dir = mkdtempSync('/tmp/startvm-template-');
  const template = readFileSync(new URL('../../templates/dnsmasq.conf.mustache', import.meta.url), 'utf8').replace('dhcp-authoritative', 'dhcp-authoritative\ndhcp-option=tag:nic0,option:ntp-server,192.0.2.123');
  writeFileSync(`${dir}/custom.conf.mustache`, template);
  const run = await expectStarted(ctr, networkProfile({ dhcp: `template: ${dir}/custom.conf.mustache` }));
  assert.match(readFileSync(`${run.runDir}/dnsmasq/dnsmasq.conf`, 'utf8'), /^dhcp-option=tag:nic0,option:ntp-server,192\.0\.2\.123$/m);
  const lease = await runDhcpClient(vm, 'eth0');
  assert.is(lease.received?.ip, '172.17.0.2');
  assert.is(lease.received?.hostname, 'tpl1');
});

test.run();
