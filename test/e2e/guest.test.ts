// End to end: a real guest boots under QEMU (TCG) with startvm as the container's entrypoint, takes
// over the container's network identity, and answers on the container's address.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { cleanupAll, createContainer, createHost, ensureTools, execInContainer, execInNamespace, ipNs, startDnsmasq } from '../netns/harness.ts';
import { root } from '../helpers/paths.ts';
import { bootGuest, buildGuest, ensureE2eTools } from './guest.ts';

test.before(async () => {
  await ensureTools();
  await ensureE2eTools();
  await buildGuest();
});
test.after.each(() => cleanupAll());

const fetchFrom = (ns: string, url: string) => execInNamespace(ns, 'curl', ['-sS', '--max-time', '15', url], { reject: false });

test('the guest takes over the container: same PID as startvm, its address, gateway, MTU, hostname, DNS and search domains', async () => {
  const host = await createHost({ mtu: 1450 });
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'vm-web', nameservers: ['192.0.2.53', '192.0.2.54'], search: ['corp.example', 'example.org'] });
  const guest = await bootGuest(ctr, { STARTVM_LOG_FORMAT: 'text' });

  assert.is(readFileSync(`/proc/${guest.pid}/comm`, 'utf8').trim(), 'qemu-system-x86', 'QEMU runs with the PID startvm had');
  const pids = (await execa('ip', ['netns', 'pids', ctr.ns])).stdout.split('\n').filter(Boolean);
  const names = pids.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).sort();
  assert.equal(names, ['dnsmasq', 'qemu-system-x86'], 'nothing of Node is left in the container');
  // Nor a child of startvm's (its ip, say), running or a zombie: QEMU would inherit it and never reap it.
  assert.is(readFileSync(`/proc/${guest.pid}/task/${guest.pid}/children`, 'utf8').trim(), '', 'QEMU inherited no child process');
  assert.match(guest.stderr(), /accelerator: tcg/);

  const eth0 = guest.nics.get('eth0');
  assert.ok(eth0, guest.stdout());
  assert.is(eth0.ip, '172.17.0.2');
  assert.is(eth0.prefix, '16');
  assert.is(eth0.router, '172.17.0.1');
  assert.is(eth0.mtu, '1450');
  assert.is(eth0.hostname, 'vm-web');
  assert.is(eth0.dns, '192.0.2.53,192.0.2.54');
  assert.is(eth0.search, 'corp.example,example.org');
  assert.is(eth0.mac, ctr.nics[0]!.mac, "the VM has the container's original MAC");

  // Another container on the host bridge reaches the guest's web server at the container's address.
  const neighbour = await createContainer(host, { address: '172.17.0.3' });
  const page = await fetchFrom(neighbour.ns, 'http://172.17.0.2/');
  assert.match(String(page.stdout), /startvm-guest hostname=vm-web ip=172\.17\.0\.2/, String(page.stderr));
  await guest.stop();
});

test('port forwarding as docker run -p does it: a DNAT rule on the host reaches the guest from outside', async () => {
  const host = await createHost({ uplink: true });
  const ctr = await createContainer(host, { address: '172.17.0.2', hostname: 'pf1' });
  await execInNamespace(host.ns, 'nft', ['-f', '-'], {
    input: `table ip startvm_test {
  chain prerouting { type nat hook prerouting priority dstnat; ip daddr ${host.uplink!.hostAddress} tcp dport 8080 dnat to 172.17.0.2:80; }
}
`,
  });
  const guest = await bootGuest(ctr);
  const page = await fetchFrom(host.uplink!.ns, `http://${host.uplink!.hostAddress}:8080/`);
  assert.match(String(page.stdout), /startvm-guest hostname=pf1 ip=172\.17\.0\.2/, String(page.stderr));
  await guest.stop();
});

test('NO_DHCP=true: the guest gets its address from a DHCP server on the host, through the bridge', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  await startDnsmasq(host.ns, ['--bind-interfaces', '--interface=docker0', '--port=0', '--dhcp-range=172.17.0.0,static,255.255.0.0', `--dhcp-host=${ctr.nics[0]!.mac},172.17.0.2,from-host,infinite`, '--dhcp-option=option:mtu,1400']);
  const guest = await bootGuest(ctr, { NO_DHCP: 'true' });
  const eth0 = guest.nics.get('eth0');
  assert.is(eth0?.ip, '172.17.0.2');
  assert.is(eth0?.hostname, 'from-host', 'the host-side server answered');
  assert.is(eth0?.mtu, '1400');
  const pids = (await execa('ip', ['netns', 'pids', ctr.ns])).stdout.split('\n').filter(Boolean);
  assert.equal(pids.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim()), ['qemu-system-x86'], 'no dnsmasq in the container');
  await guest.stop();
});

test('a Calico-style /32 address works end to end', async () => {
  const host = await createHost({ uplink: true });
  const ctr = await createContainer(host, { mode: 'routed', address: '10.244.1.5', hostname: 'calico1' });
  const guest = await bootGuest(ctr);
  const eth0 = guest.nics.get('eth0');
  assert.is(eth0?.ip, '10.244.1.5');
  assert.is(eth0?.prefix, '32');
  assert.match(eth0?.routes ?? '', /0\.0\.0\.0\/0via169\.254\.1\.1/);
  const page = await fetchFrom(host.uplink!.ns, 'http://10.244.1.5/');
  assert.match(String(page.stdout), /startvm-guest hostname=calico1 ip=10\.244\.1\.5/, String(page.stderr));
  await ipNs(host.ns, ['route', 'show']);
  await guest.stop();
});

test('startvm powerdown shuts the guest down cleanly through QMP, and QEMU exits 0', async () => {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const guest = await bootGuest(ctr);
  const powerdown = await execInContainer(ctr, process.execPath, [`${root}bin/startvm`, 'powerdown', '--run-dir', guest.runDir, '--timeout', '60'], { reject: false });
  assert.is(powerdown.exitCode, 0, String(powerdown.stderr));
  assert.match(String(powerdown.stderr), /the guest powered down/);
  assert.is(await guest.exited, 0);
  assert.match(guest.stdout(), /STARTVM-GUEST shutdown/, 'the guest ran its shutdown, not a pulled plug');
});

test.run();
