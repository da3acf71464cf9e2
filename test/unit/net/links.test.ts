// Derived MACs (src/net/mac.ts), link names from templates (src/net/names.ts) and the route
// arguments every stage passes to `ip route` (src/net/ip.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deriveMac } from '../../../src/net/mac.ts';
import { linkName } from '../../../src/net/names.ts';
import { routeSpec } from '../../../src/net/ip.ts';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const firstOctet = (mac: string) => parseInt(mac.slice(0, 2), 16);
const macs = Array.from({ length: 256 }, (_, i) => `02:42:ac:11:${(i >> 4).toString(16).padStart(2, '0')}:${(i * 7 % 256).toString(16).padStart(2, '0')}`);

test('a derived MAC is a unicast, locally administered MAC, for every original and purpose', () => {
  for (const original of [...macs, '00:16:3e:00:00:01', 'ff:ff:ff:ff:ff:ff']) {
    for (const purpose of ['container-interface', 'bridge']) {
      const derived = deriveMac(original, purpose);
      assert.match(derived, MAC);
      assert.is(firstOctet(derived) & 0x01, 0, `${derived} (from ${original}, ${purpose}) is multicast`);
      assert.is(firstOctet(derived) & 0x02, 0x02, `${derived} (from ${original}, ${purpose}) is not locally administered`);
    }
  }
});

test('a derived MAC is stable: the same on every start, whatever the case of the original', () => {
  assert.is(deriveMac('02:42:ac:11:00:02', 'container-interface'), '46:e7:3c:b3:40:e6', 'the value in test/fixtures/net/bridged.jsonl');
  assert.is(deriveMac('02:42:ac:11:00:02', 'bridge'), 'd6:2d:d1:dd:de:63');
  assert.is(deriveMac('02:42:AC:11:00:02', 'bridge'), deriveMac('02:42:ac:11:00:02', 'bridge'));
});

test('a derived MAC differs from the original, between purposes and between originals', () => {
  const derived = new Set<string>();
  for (const original of macs) {
    const forInterface = deriveMac(original, 'container-interface');
    const forBridge = deriveMac(original, 'bridge');
    assert.is.not(forInterface, original);
    assert.is.not(forBridge, original);
    assert.is.not(forInterface, forBridge);
    derived.add(forInterface).add(forBridge);
  }
  assert.is(derived.size, macs.length * 2, 'no two originals share a derived MAC');
});

test('link names come from the templates: {{index}} and {{name}}', () => {
  assert.is(linkName('br{{index}}', 0, 'eth0'), 'br0');
  assert.is(linkName('tap{{index}}', 3, 'eth3'), 'tap3');
  assert.is(linkName('{{name}}-br', 1, 'eth1'), 'eth1-br');
  assert.is(linkName('vm', 0, 'eth0'), 'vm');
});

test('link names are not HTML-escaped', () => {
  assert.is(linkName('b={{name}}', 0, 'e&1'), 'b=e&1');
});

test('a template that gives an invalid interface name is an error naming the template and the result', () => {
  assert.is(linkName('bridge-for-{{name}}', 0, 'eth0'), 'bridge-for-eth0', '15 characters is the limit, and allowed');
  assert.throws(() => linkName('bridge-for-{{name}}', 10, 'eth10'), (error: Error) =>
    error.message === '"bridge-for-{{name}}" gives the link name "bridge-for-eth10", which is not a valid interface name (1-15 characters, no spaces, / or :)');
  for (const bad of ['br {{index}}', 'br/{{index}}', 'br:{{index}}', '{{missing}}']) assert.throws(() => linkName(bad, 0, 'eth0'), /not a valid interface name/, bad);
});

test('routeSpec: a gateway route with onlink, and never a scope next to a gateway', () => {
  assert.is(routeSpec({ dst: 'default', gateway: '169.254.1.1', onlink: true, scope: 'global', protocol: 'boot' }, 'br0'), 'default via 169.254.1.1 dev br0 onlink');
  assert.is(routeSpec({ dst: '10.50.0.0/16', gateway: '10.1.0.1', scope: 'link', metric: 100 }, 'eth0'), '10.50.0.0/16 via 10.1.0.1 dev eth0 metric 100');
});

test('routeSpec: an on-link route keeps scope link and src; proto only when not kernel or boot', () => {
  assert.is(routeSpec({ dst: '172.17.0.0/16', scope: 'link', protocol: 'static', src: '169.254.35.2' }, 'br0'), '172.17.0.0/16 dev br0 scope link src 169.254.35.2 proto static');
  assert.is(routeSpec({ dst: '172.17.0.0/16', scope: 'link', protocol: 'kernel' }, 'eth0'), '172.17.0.0/16 dev eth0 scope link');
  assert.is(routeSpec({ dst: '10.0.0.0/8', scope: 'global', protocol: 'dhcp', metric: 0 }, 'eth0'), '10.0.0.0/8 dev eth0 metric 0 proto dhcp');
});

test.run();
