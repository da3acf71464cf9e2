// The issue's example and every shipped profile validate; defaults fill what a profile leaves out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { checkProfile } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { root } from '../../helpers/paths.ts';

const { catalog } = builtinRegistry();
const check = (text: string, env: NodeJS.ProcessEnv = {}) => checkProfile(text, '/etc/startvm/profile.yaml', { env, catalog });

const ISSUE_EXAMPLE = `version: 1
vm:
  cpus: 1
  memory: 256
  accel: tcg
  qemu: qemu-system-x86_64
  kernel: /var/lib/startvm/vmlinuz
  initrd: /var/lib/startvm/initrd.gz
  append: console=ttyS0 panic=-1
  display: none        # serial console on the container's stdout
stages: [capture, bridge, readdress, dhcp, exec-kvm]
`;

test('the example profile from the design validates', () => {
  const { profile, problems } = check(ISSUE_EXAMPLE);
  assert.equal(problems, []);
  assert.is(profile?.vm.kernel, '/var/lib/startvm/vmlinuz');
  assert.equal(profile?.stages.map((s) => s.stage), ['capture', 'bridge', 'readdress', 'dhcp', 'exec-kvm']);
});

test('defaults fill a minimal profile', () => {
  const { profile } = check('version: 1\n');
  assert.ok(profile);
  assert.is(profile.vm.cpus, 1);
  assert.is(profile.vm.memory, 512);
  assert.is(profile.vm.accel, 'auto');
  assert.is(profile.vm.machine, 'q35');
  assert.is(profile.vm.display, 'none');
  assert.equal(profile.vm.nic, { model: 'virtio-net-pci', vhost: 'auto', multiqueue: true });
  assert.is(profile.network.interfaces, 'auto');
  assert.equal(profile.stages.map((s) => [s.stage, s.enabled]), [['capture', true], ['bridge', true], ['readdress', true], ['dhcp', true], ['exec-kvm', true]]);
});

test('stage options get their own defaults', () => {
  const { profile } = check('version: 1\nstages: [capture, {stage: bridge}, readdress, {stage: dhcp, options: {dns: forward}}, exec-kvm]\n');
  assert.equal(profile?.stages[1]?.options, { bridgeName: 'br{{index}}', tapName: 'tap{{index}}' });
  assert.equal(profile?.stages[3]?.options, { dns: 'forward', dnsmasq: 'dnsmasq', leaseTime: 'infinite' });
});

test('relative vm paths resolve against the profile folder', () => {
  const { profile } = checkProfile('version: 1\nvm:\n  kernel: images/vmlinuz\n  disks: [{path: disk.qcow2, format: qcow2}]\n', '/srv/vm/profile.yaml', { env: {}, catalog });
  assert.is(profile?.vm.kernel, '/srv/vm/images/vmlinuz');
  assert.is(profile?.vm.disks[0]?.path, '/srv/vm/disk.qcow2');
});

test('a stage from a module is accepted with free-form options (its own schema checks them at run time)', () => {
  const { problems } = checkProfile('version: 1\nstages: [capture, {stage: announce, module: ../test/fixtures/stages/announce.mjs, options: {greeting: hi}}]\n', `${root}profiles/x.yaml`, { env: {}, catalog });
  assert.equal(problems, []);
});

for (const file of readdirSync(`${root}profiles`).filter((f) => f.endsWith('.yaml'))) {
  test(`profiles/${file} is lint-clean and declares the schema for editors`, () => {
    const text = readFileSync(`${root}profiles/${file}`, 'utf8');
    assert.ok(text.startsWith('# yaml-language-server: $schema=../schemas/profile.schema.json\n'));
    assert.equal(checkProfile(text, `${root}profiles/${file}`, { env: {}, catalog }).problems, []);
  });
}

test.run();
