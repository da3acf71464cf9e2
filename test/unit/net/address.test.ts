// IPv4 arithmetic behind the bridge's own address (src/net/address.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { contains, fromInt, netmaskOf, networkOf, pickLinkLocal, subnetCandidates, toInt } from '../../../src/net/address.ts';

const free = () => false;
/** The seed that makes pickLinkLocal start at this address. */
const seedOf = (address: string) => toInt(address) - toInt('169.254.1.0');

test('link-local: never the .0 or .255 of a /24, Calico\'s 169.254.1.1 or the metadata service 169.254.169.254', () => {
  assert.is(pickLinkLocal(seedOf('169.254.1.0'), free), '169.254.1.2', '169.254.1.0 is a network address and 169.254.1.1 is Calico\'s gateway');
  assert.is(pickLinkLocal(seedOf('169.254.1.1'), free), '169.254.1.2');
  assert.is(pickLinkLocal(seedOf('169.254.169.254'), free), '169.254.170.1', '169.254.169.254 reserved, then .255 and .0 skipped');
  assert.is(pickLinkLocal(seedOf('169.254.7.255'), free), '169.254.8.1');
});

test('link-local: every seed gives an address inside 169.254.1.0-169.254.254.255 that is none of the forbidden ones', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 254 * 256; seed += 1) {
    const address = pickLinkLocal(seed, free);
    seen.add(address);
    const [a, b, c, d] = address.split('.').map(Number);
    if (a !== 169 || b !== 254 || c! < 1 || c! > 254 || d === 0 || d === 255 || address === '169.254.1.1' || address === '169.254.169.254') {
      assert.unreachable(`seed ${seed} gave ${address}`);
    }
  }
  assert.is(seen.size, 254 * 254 - 2, 'every usable address is reachable from some seed');
});

test('link-local: deterministic from the seed, and different seeds give different addresses', () => {
  assert.is(pickLinkLocal(8706, free), '169.254.35.2');
  assert.is(pickLinkLocal(8706, free), pickLinkLocal(8706, free));
  assert.is(pickLinkLocal(8707, free), '169.254.35.3');
});

test('link-local: skips addresses in use and anything a route covers', () => {
  const used = new Set(['169.254.35.2', '169.254.35.3']);
  assert.is(pickLinkLocal(8706, (a) => used.has(a)), '169.254.35.4');
  assert.is(pickLinkLocal(8706, (a) => contains('169.254.35.0/24', a)), '169.254.36.1', 'a routed /24 is skipped whole');
});

test('link-local: wraps around past 169.254.254.255 and seeds larger than the range wrap too', () => {
  assert.is(pickLinkLocal(seedOf('169.254.254.254'), free), '169.254.254.254');
  assert.is(pickLinkLocal(seedOf('169.254.254.255'), free), '169.254.1.2', 'after the last address comes the first usable one');
  assert.is(pickLinkLocal(seedOf('169.254.254.1'), (a) => a.startsWith('169.254.254.')), '169.254.1.2');
  assert.is(pickLinkLocal(254 * 256 + 7, free), '169.254.1.7');
});

test('link-local: a full range is an error, not an endless loop', () => {
  assert.throws(() => pickLinkLocal(123, () => true), (error: Error) => error.message === 'no free link-local address left for the bridge');
});

test('subnet candidates come from the top of the subnet down, at most 8, never the broadcast', () => {
  assert.equal(subnetCandidates('172.17.0.2', 16, new Set()), [
    '172.17.255.254', '172.17.255.253', '172.17.255.252', '172.17.255.251',
    '172.17.255.250', '172.17.255.249', '172.17.255.248', '172.17.255.247',
  ]);
  assert.equal(subnetCandidates('10.0.0.77', 24, new Set()).slice(0, 2), ['10.0.0.254', '10.0.0.253'], 'from the top of the subnet, not from the address');
});

test('subnet candidates leave out the given addresses (the VM\'s, the gateways) and still offer 8', () => {
  const candidates = subnetCandidates('10.0.0.2', 24, new Set(['10.0.0.254', '10.0.0.252']));
  assert.equal(candidates, ['10.0.0.253', '10.0.0.251', '10.0.0.250', '10.0.0.249', '10.0.0.248', '10.0.0.247', '10.0.0.246', '10.0.0.245']);
});

test('subnet candidates of a small subnet: only its hosts, never the network address', () => {
  assert.equal(subnetCandidates('10.0.0.1', 30, new Set()), ['10.0.0.2', '10.0.0.1']);
  assert.equal(subnetCandidates('10.0.0.1', 30, new Set(['10.0.0.1'])), ['10.0.0.2']);
  assert.equal(subnetCandidates('192.168.9.9', 29, new Set()), ['192.168.9.14', '192.168.9.13', '192.168.9.12', '192.168.9.11', '192.168.9.10', '192.168.9.9']);
});

test('subnet candidates: none for /31 and /32 (no room for a bridge address)', () => {
  assert.equal(subnetCandidates('10.0.0.0', 31, new Set()), []);
  assert.equal(subnetCandidates('10.244.1.5', 32, new Set()), []);
});

test('contains: CIDRs, bare addresses as /32, and IPv6 never inside an IPv4 prefix', () => {
  assert.ok(contains('172.17.0.0/16', '172.17.255.255'));
  assert.not.ok(contains('172.17.0.0/16', '172.18.0.1'));
  assert.ok(contains('0.0.0.0/0', '198.51.100.7'));
  assert.ok(contains('169.254.1.1', '169.254.1.1'));
  assert.not.ok(contains('169.254.1.1', '169.254.1.2'));
  assert.ok(contains('10.244.1.5/32', '10.244.1.5'));
  assert.not.ok(contains('10.0.0.0/8', '2001:db8::1'));
  assert.ok(contains('2001:db8::/32', '2001:db8::1'));
});

test('networkOf and netmaskOf', () => {
  assert.is(networkOf('172.17.0.2', 16), '172.17.0.0');
  assert.is(networkOf('192.168.1.130', 25), '192.168.1.128');
  assert.is(networkOf('10.244.1.5', 32), '10.244.1.5');
  assert.is(networkOf('203.0.113.9', 0), '0.0.0.0');
  assert.is(netmaskOf(16), '255.255.0.0');
  assert.is(netmaskOf(25), '255.255.255.128');
  assert.is(netmaskOf(32), '255.255.255.255');
  assert.is(netmaskOf(0), '0.0.0.0');
});

test('toInt and fromInt are inverse over the whole range', () => {
  for (const address of ['0.0.0.0', '169.254.1.0', '172.17.255.254', '255.255.255.255']) assert.is(fromInt(toInt(address)), address);
  assert.is(toInt('169.254.1.0'), 0xa9fe0100);
  assert.is(toInt('255.255.255.255'), 2 ** 32 - 1, 'no sign overflow');
});

test.run();
