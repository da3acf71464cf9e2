// Proves the netns harness itself against the real kernel (needs root).
import { existsSync, readFileSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import {
  cleanupAll, cleanupStale, connectContainer, createContainer, createHost, createVmPort, ensureTools,
  execInContainer, execInNamespace, ipNs, namePrefix, newNamespaceName, runDhcpClient,
  snapshot, startDnsmasq,
} from './harness.ts';

async function ourNamespaces(): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(namePrefix));
}

/**
 * Not running: no such PID, or a zombie. Daemonized dnsmasq is reparented to
 * PID 1, which here reaps only after a second or two.
 */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function ping(ns: string | { ns: string }, address: string): Promise<void> {
  // Debian's busybox-static has ping; iputils-ping may not be installed.
  const r = await execInNamespace(ns, 'busybox', ['ping', '-c1', '-W1', address], { reject: false });
  assert.is(r.exitCode, 0, `ping ${address}: ${r.stdout}${r.stderr}`);
}

test.before(async () => {
  await ensureTools();
});

test.after.each(() => {
  cleanupAll();
});

test.after(async () => {
  assert.equal(await ourNamespaces(), [], 'no namespace of ours is left');
});

test('names are unique, short and carry the role', () => {
  const a = newNamespaceName('container');
  const b = newNamespaceName('container');
  assert.is.not(a, b);
  assert.ok(a.startsWith(namePrefix) && a.length <= 15, a);
  assert.is(a.charAt(namePrefix.length), 'c');
});

test('refuses namespaces it did not create', async () => {
  assert.throws(() => snapshot('not-ours'), /refusing/);
  await ipNs('', ['link']).then(() => assert.unreachable('ipNs ran'), (e: Error) => assert.match(e.message, /refusing/));
  await runDhcpClient('not-ours', 'eth0').then(
    () => assert.unreachable('udhcpc ran'), (e: Error) => assert.match(e.message, /refusing/));
});

test('(1) a container on the host bridge reaches the bridge address', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  assert.is(ctr.nics[0]?.mac, '02:42:ac:11:00:02', "Docker's MAC scheme");
  await ping(ctr, host.address);
});

test('a container process gets its hostname, resolv.conf and hosts', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, {
    address: '172.17.0.5', hostname: 'web1', nameservers: ['127.0.0.11'], search: ['example.test'],
    options: ['ndots:0'], hosts: ['172.17.0.9\tdb'],
  });
  const before = machineHostname();
  const r = await execInContainer(ctr, 'sh', ['-c', 'hostname; cat /etc/resolv.conf /etc/hosts']);
  assert.match(r.stdout, /^web1\n/);
  assert.match(r.stdout, /nameserver 127\.0\.0\.11\nsearch example\.test\noptions ndots:0/);
  assert.match(r.stdout, /172\.17\.0\.5\tweb1\n172\.17\.0\.9\tdb/);
  assert.is(machineHostname(), before, "the machine's hostname is untouched");
});

test('(2) dnsmasq in one container serves udhcpc in another over the host bridge', async () => {
  const host = await createHost({ mtu: 1450 });
  const server = await createContainer(host, { address: '172.17.0.2' });
  const clientMac = '02:42:ac:11:00:63';
  const client = await createContainer(host, { mac: clientMac }); // no address: a DHCP client
  const dnsmasq = await startDnsmasq(server, [
    '--port=0', '--interface=eth0', '--bind-interfaces', '--log-dhcp',
    '--dhcp-range=172.17.0.100,172.17.0.200,255.255.0.0,1h',
    `--dhcp-host=${clientMac},172.17.0.99,guest1`,
    '--dhcp-option=option:router,172.17.0.1', '--dhcp-option=option:mtu,1400',
    '--dhcp-option=option:dns-server,172.17.0.2', '--dhcp-option=option:domain-search,example.test',
  ]);
  assert.ok(!gone(dnsmasq.pid), 'dnsmasq daemon is running');

  const r = await runDhcpClient(client, 'eth0');
  assert.is(r.exitCode, 0, r.stderr + dnsmasq.log());
  assert.ok(r.received, 'a lease');
  assert.equal(
    { ip: r.received.ip, subnet: r.received.subnet, mask: r.received.mask, router: r.received.router,
      mtu: r.received.mtu, dns: r.received.dns, search: r.received.search, hostname: r.received.hostname,
      serverid: r.received.serverid, interface: r.received.interface },
    { ip: '172.17.0.99', subnet: '255.255.0.0', mask: '16', router: '172.17.0.1', mtu: '1400',
      dns: '172.17.0.2', search: 'example.test', hostname: 'guest1', serverid: '172.17.0.2', interface: 'eth0' });
  assert.ok(r.events.includes('bound'), r.events.join());
  // Not applied: the client's eth0 still has no IPv4 address.
  assert.not.ok(snapshot(client).addresses.some((a) => a['family'] === 'inet' && a['dev'] === 'eth0'));

  // No server answering: null, not an exception.
  dnsmasq.stop();
  assert.ok(gone(dnsmasq.pid), 'dnsmasq stopped');
  const none = await runDhcpClient(client, 'eth0', { tries: 1 });
  assert.is(none.received, null);
  assert.is.not(none.exitCode, 0);
  assert.ok(none.events.includes('leasefail'), none.events.join());
});

test('a dnsmasq DNS server on 127.0.0.11 answers the container through its resolv.conf', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2', nameservers: ['127.0.0.11'] });
  await startDnsmasq(ctr, ['--listen-address=127.0.0.11', '--bind-interfaces', '--no-resolv', '--no-hosts',
    '--address=/web.example.test/172.17.0.42']);
  const r = await execInContainer(ctr, 'busybox', ['nslookup', '-type=a', 'web.example.test'], { reject: false });
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Server:\s+127\.0\.0\.11/);
  assert.match(r.stdout, /Address: 172\.17\.0\.42/);
});

test('(3) snapshot differs after a change and compares equal once it is undone', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const before = snapshot(ctr);
  assert.equal(snapshot(ctr), before, 'stable when nothing changes');
  assert.ok(before.routes.some((r) => r['dst'] === 'default' && r['gateway'] === '172.17.0.1'), 'default route captured');

  // An extra address and MTU change.
  await ipNs(ctr, ['addr', 'add', '10.9.9.9/24', 'dev', 'eth0']);
  await ipNs(ctr, ['link', 'set', 'dev', 'eth0', 'mtu', '1400']);
  assert.not.equal(snapshot(ctr), before);
  await ipNs(ctr, ['addr', 'del', '10.9.9.9/24', 'dev', 'eth0']);
  await ipNs(ctr, ['link', 'set', 'dev', 'eth0', 'mtu', '1500']);
  assert.equal(snapshot(ctr), before);

  // Link down drops the default route; up alone does not bring it back.
  await ipNs(ctr, ['link', 'set', 'dev', 'eth0', 'down']);
  assert.not.equal(snapshot(ctr), before);
  await ipNs(ctr, ['link', 'set', 'dev', 'eth0', 'up']);
  assert.not.equal(snapshot(ctr).routes, before.routes, 'default route is gone');
  await ipNs(ctr, ['route', 'add', 'default', 'via', '172.17.0.1', 'dev', 'eth0']);
  assert.equal(snapshot(ctr), before, 'kernel fe80:: addresses and routes are ignored');

  // A process the harness did not start is seen; harness-started ones are not.
  const own = execInNamespace(ctr, 'sleep', ['30']);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(snapshot(ctr), before, 'harness-started process not listed');
  const stray = execa('ip', ['netns', 'exec', ctr.ns, 'sleep', '30'], { reject: false });
  await new Promise((res) => setTimeout(res, 100));
  const withStray = snapshot(ctr);
  assert.equal(withStray.processes, [`${stray.pid} sleep`]);
  stray.kill();
  await stray;
  assert.equal(snapshot(ctr), before);
  own.kill();
  await own.catch(() => {});
});

test('(4) cleanupAll removes every namespace and process it made, and is idempotent', async () => {
  const host = await createHost({ uplink: true });
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'c1' });
  const vm = await createVmPort(ctr);
  const dnsmasq = await startDnsmasq(ctr, ['--port=0', '--interface=eth0', '--bind-interfaces',
    '--dhcp-range=172.17.0.100,172.17.0.200,255.255.0.0']);
  const sleeper = execInContainer(ctr, 'sleep', ['300']);
  const stray = execa('ip', ['netns', 'exec', vm.ns, 'sleep', '300'], { reject: false }); // not ours: a leftover
  await new Promise((res) => setTimeout(res, 100));
  const names = [host.ns, host.uplink?.ns ?? '', ctr.ns, vm.ns];
  assert.equal((await ourNamespaces()).sort(), [...names].sort());
  assert.ok(existsSync(`/etc/netns/${ctr.ns}/resolv.conf`));
  const pids = [dnsmasq.pid, sleeper.pid ?? 0, stray.pid ?? 0];

  cleanupAll();
  await sleeper.catch(() => {}); // let node reap its children
  await stray;
  assert.equal(await ourNamespaces(), []);
  for (const pid of pids) assert.ok(gone(pid), `pid ${pid} is gone`);
  assert.not.ok(existsSync(`/etc/netns/${ctr.ns}`));
  assert.not.ok(existsSync(dnsmasq.dir));
  cleanupAll();
  assert.throws(() => snapshot(ctr), /refusing/, 'stale handles are refused');
});

test('cleanupStale removes namespaces of harness runs that died', async () => {
  const stale = 'svzzzzzc0'; // PID 60466175 (base 36 zzzzz) is above any pid_max
  await execa('ip', ['netns', 'add', stale]);
  try {
    assert.equal(cleanupStale(), [stale]);
  } finally {
    await execa('ip', ['netns', 'delete', stale], { reject: false });
  }
  assert.not.ok((await execa('ip', ['netns', 'list'])).stdout.includes(stale));
});

test('Calico style: routed veth, /32 address, 169.254.1.1 via proxy ARP, out through the uplink', async () => {
  const host = await createHost({ uplink: true });
  const ctr = await createContainer(host, { mode: 'routed', address: '10.244.1.5' });
  const routes = snapshot(ctr).routes.filter((r) => r['family'] === 'inet' && r['table'] === undefined);
  assert.ok(routes.some((r) => r['dst'] === 'default' && r['gateway'] === '169.254.1.1'));
  assert.ok(routes.some((r) => r['dst'] === '169.254.1.1' && r['scope'] === 'link'));
  const hostLinks = snapshot(host).links;
  assert.is(hostLinks.find((l) => l.name === ctr.nics[0]?.hostIfname)?.master, undefined, 'not on the bridge');
  await ping(ctr, host.uplink?.outsideAddress ?? '');
  const neigh = await ipNs(ctr, ['neigh', 'show', '169.254.1.1']);
  assert.match(neigh, /ee:ee:ee:ee:ee:ee/, 'the host answered ARP for the gateway');
});

test('a container joins a second network as eth1', async () => {
  const a = await createHost();
  const b = await createHost({ address: '172.18.0.1', mtu: 1450 });
  const ctr = await createContainer(a, { address: '172.17.0.2' });
  const nic = await connectContainer(ctr, b, { address: '172.18.0.2' });
  assert.is(nic.ifname, 'eth1');
  await ping(ctr, '172.17.0.1');
  await ping(ctr, '172.18.0.1');
  const snap = snapshot(ctr);
  assert.is(snap.links.find((l) => l.name === 'eth1')?.mtu, 1450);
  assert.equal(snap.routes.filter((r) => r['dst'] === 'default').map((r) => r['dev']), ['eth0'], 'one default route');
});

test('vm port: DHCP over the port, applied inside the vm namespace only', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const vm = await createVmPort(ctr, { port: 'vmport0' });
  assert.is(vm.mac, '02:42:ac:11:00:02', "the VM has the container's MAC");
  await ipNs(ctr, ['addr', 'add', '10.0.2.1/24', 'dev', 'vmport0']);
  await startDnsmasq(ctr, ['--port=0', '--interface=vmport0', '--bind-interfaces',
    '--dhcp-range=10.0.2.15,10.0.2.15,255.255.255.0', `--dhcp-host=${vm.mac},10.0.2.15,guest`,
    '--dhcp-option=option:classless-static-route,10.99.0.0/16,10.0.2.1,0.0.0.0/0,10.0.2.1',
    '--dhcp-option=option:mtu,1400']);
  const ctrBefore = snapshot(ctr);
  const r = await runDhcpClient(vm, 'eth0', { apply: true });
  assert.is(r.exitCode, 0, r.stderr);
  assert.equal(r.applyErrors, []);
  assert.is(r.received?.staticroutes, '10.99.0.0/16 10.0.2.1 0.0.0.0/0 10.0.2.1');
  const snap = snapshot(vm);
  assert.ok(snap.addresses.some((a) => a['local'] === '10.0.2.15' && a['prefixlen'] === 24 && a['dev'] === 'eth0'));
  assert.is(snap.links.find((l) => l.name === 'eth0')?.mtu, 1400);
  assert.ok(snap.routes.some((r) => r['dst'] === 'default' && r['gateway'] === '10.0.2.1'));
  assert.ok(snap.routes.some((r) => r['dst'] === '10.99.0.0/16' && r['gateway'] === '10.0.2.1'));
  assert.equal(snapshot(ctr).links, ctrBefore.links, "the container's links are untouched");
  await ping(vm, '10.0.2.1');
});

test.run();
