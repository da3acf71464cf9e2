// Environment overrides: strict parsing, merged before validation, errors that name the variable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkProfile } from '../../../src/profile/check.ts';
import { envVariables, parseBoolean } from '../../../src/profile/env.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';

const { catalog } = builtinRegistry();
const PROFILE = 'version: 1\nvm:\n  cpus: 2\n  args: [-no-reboot]\nstages: [capture, bridge, readdress, dhcp, exec-kvm]\n';
const check = (env: NodeJS.ProcessEnv, text = PROFILE) => checkProfile(text, '/p.yaml', { env, catalog });
const dhcpEnabled = (env: NodeJS.ProcessEnv) => check(env).profile?.stages.find((s) => s.stage === 'dhcp')?.enabled;

test('booleans are strict: true/false/1/0/yes/no in any case, nothing else', () => {
  for (const yes of ['true', 'TRUE', 'True', '1', 'yes', 'YES', ' yes ']) assert.is(parseBoolean(yes), true, yes);
  for (const no of ['false', 'False', '0', 'no', 'NO']) assert.is(parseBoolean(no), false, no);
  for (const bad of ['', 'y', 'n', 'on', 'off', '2', 'truee', 'enabled']) assert.is(parseBoolean(bad), undefined, bad);
});

test('NO_DHCP=true switches the dhcp stage off; NO_DHCP=false keeps it on (unlike the original script)', () => {
  assert.is(dhcpEnabled({}), true);
  assert.is(dhcpEnabled({ NO_DHCP: 'true' }), false);
  assert.is(dhcpEnabled({ NO_DHCP: 'YES' }), false);
  assert.is(dhcpEnabled({ NO_DHCP: '1' }), false);
  assert.is(dhcpEnabled({ NO_DHCP: 'false' }), true);
  assert.is(dhcpEnabled({ NO_DHCP: '0' }), true);
  assert.is(dhcpEnabled({ NO_DHCP: 'No' }), true);
});

test('NO_DHCP=maybe is an error naming the variable and the value', () => {
  const { profile, problems } = check({ NO_DHCP: 'maybe' });
  assert.is(profile, undefined);
  assert.equal(problems.map((p) => [p.ruleId, p.path, p.message, p.line]), [['env', 'env.NO_DHCP', 'NO_DHCP="maybe" is not a boolean: use true or false (also 1/0, yes/no)', 0]]);
});

test('NO_DHCP=false also re-enables a dhcp stage the profile switched off', () => {
  const text = 'version: 1\nstages: [capture, bridge, readdress, {stage: dhcp, enabled: false}, exec-kvm]\n';
  assert.is(check({ NO_DHCP: 'false' }, text).profile?.stages[3]?.enabled, true);
  assert.is(check({}, text).profile?.stages[3]?.enabled, false);
});

test('numbers: STARTVM_CPUS and STARTVM_MEMORY override, bad numbers are errors', () => {
  const { profile } = check({ STARTVM_CPUS: '4', STARTVM_MEMORY: '2048' });
  assert.is(profile?.vm.cpus, 4);
  assert.is(profile?.vm.memory, 2048);
  assert.equal(check({ STARTVM_CPUS: 'two' }).problems.map((p) => p.message), ['STARTVM_CPUS="two" is not a whole number']);
  assert.equal(check({ STARTVM_MEMORY: '1.5' }).problems.map((p) => p.message), ['STARTVM_MEMORY="1.5" is not a whole number']);
});

test('an override is validated after merging, and the error says the value came from the variable', () => {
  const { profile, problems } = check({ STARTVM_CPUS: '0' });
  assert.is(profile, undefined);
  assert.equal(problems.map((p) => [p.ruleId, p.line, p.message]), [['env', 0, 'vm.cpus must be >= 1 (got 0) (value "0" from environment variable STARTVM_CPUS)']]);
  assert.equal(check({ STARTVM_ACCEL: 'fast' }).problems.map((p) => p.message), ['vm.accel must be one of kvm, tcg, auto, not "fast" (value "fast" from environment variable STARTVM_ACCEL)']);
});

test('STARTVM_QEMU_ARGS appends words or a JSON list to vm.args', () => {
  assert.equal(check({ STARTVM_QEMU_ARGS: '-device  virtio-rng-pci' }).profile?.vm.args, ['-no-reboot', '-device', 'virtio-rng-pci']);
  assert.equal(check({ STARTVM_QEMU_ARGS: '["-append", "a b"]' }).profile?.vm.args, ['-no-reboot', '-append', 'a b']);
  assert.equal(check({ STARTVM_QEMU_ARGS: '[1]' }).problems.map((p) => p.message), ['STARTVM_QEMU_ARGS starts with "[" but is not a JSON array of strings']);
});

test('STARTVM_INTERFACES sets the interface list', () => {
  assert.equal(check({ STARTVM_INTERFACES: 'eth1, eth0' }).profile?.network.interfaces, ['eth1', 'eth0']);
});

test('every variable is declared once, with a description', () => {
  const names = envVariables.map((v) => v.name);
  assert.equal(names.length, new Set(names).size);
  for (const name of ['NO_DHCP', 'STARTVM_PROFILE', 'STARTVM_CPUS', 'STARTVM_MEMORY', 'STARTVM_ACCEL', 'STARTVM_QEMU_ARGS']) assert.ok(names.includes(name), name);
  for (const v of envVariables) assert.ok(v.description.length > 10, v.name);
});

test.run();
