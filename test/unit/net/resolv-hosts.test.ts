// The container's resolv.conf and /etc/hosts as the dhcp stage reads them (src/net/resolv.ts, src/net/hosts.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback, parseResolvConf } from '../../../src/net/resolv.ts';
import { hostRecords, parseHosts } from '../../../src/net/hosts.ts';
import { DOCKER_HOSTS, DOCKER_USER_RESOLV } from './samples.ts';

test("resolv.conf: Docker's embedded resolver, its search list and options; comments ignored", () => {
  assert.equal(parseResolvConf(DOCKER_USER_RESOLV), { nameservers: ['127.0.0.11'], search: ['a.example', 'b.example'], options: ['ndots:0'] });
});

test('resolv.conf: several nameservers in order, tabs, inline # and ; comments, CRLF line ends', () => {
  const text = 'nameserver 192.0.2.53 # primary\r\nnameserver\t198.51.100.53 ; secondary\r\nnameserver\r\noptions ndots:5 timeout:1\r\noptions rotate\r\n';
  assert.equal(parseResolvConf(text), { nameservers: ['192.0.2.53', '198.51.100.53'], search: [], options: ['ndots:5', 'timeout:1', 'rotate'] });
});

test('resolv.conf: a ; comment ends the list it follows', () => {
  assert.equal(parseResolvConf('search a.example ;old.example\noptions rotate; edns0\n'), { nameservers: [], search: ['a.example'], options: ['rotate'] });
});

test('resolv.conf: the last of search and domain wins, as in glibc', () => {
  assert.equal(parseResolvConf('domain corp.example\nsearch a.example b.example\n').search, ['a.example', 'b.example']);
  assert.equal(parseResolvConf('search a.example b.example\ndomain corp.example\n').search, ['corp.example']);
});

test('resolv.conf: an empty or missing file gives no resolvers', () => {
  assert.equal(parseResolvConf(''), { nameservers: [], search: [], options: [] });
});

test('loopback resolvers: 127.0.0.0/8 and ::1, nothing else', () => {
  for (const address of ['127.0.0.11', '127.0.0.1', '127.53.0.1', '::1']) assert.ok(isLoopback(address), address);
  for (const address of ['192.0.2.53', '10.127.0.1', '::', '2001:db8::1', '169.254.169.254']) assert.not.ok(isLoopback(address), address);
});

test('/etc/hosts: linked containers and added hosts are kept; localhost, 127.x and the IPv6 boilerplate are not', () => {
  assert.equal(parseHosts(DOCKER_HOSTS), [
    { address: '172.18.0.3', names: ['db', '4f2a1c0d9e8b', 'db_1'] },
    { address: '203.0.113.7', names: ['registry.example.com'] },
    { address: '2001:db8::7', names: ['v6.example.com'] },
    { address: '198.51.100.10', names: ['good'] },
    { address: '172.17.0.2', names: ['web-1'] },
  ]);
});

test('/etc/hosts: a line whose names are all invalid, or whose address is not one, is left out', () => {
  assert.equal(parseHosts('198.51.100.9 bad$name\nnot-an-address ghost\n198.51.100.1\n'), []);
});

test('host-record values: names then address, comma-separated, for dnsmasq', () => {
  assert.equal(hostRecords(DOCKER_HOSTS), [
    'db,4f2a1c0d9e8b,db_1,172.18.0.3',
    'registry.example.com,203.0.113.7',
    'v6.example.com,2001:db8::7',
    'good,198.51.100.10',
    'web-1,172.17.0.2',
  ]);
  assert.equal(hostRecords(''), []);
});

test.run();
