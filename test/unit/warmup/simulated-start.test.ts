// The simulated start that trains the code cache at image build: it runs the real stages on a
// made-up Docker container network, reaches the hand-over, and leaves nothing behind. No command
// runs (a stand-in answers ip, dnsmasq and arping), so this is safe outside a network namespace.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { checkProfile } from '../../../src/profile/check.ts';
import { builtinRegistry } from '../../../src/stages/index.ts';
import { simulatedNetwork, simulateStart } from '../../../src/warmup/simulated-start.ts';
import { selectInterfaces } from '../../../src/net/capture.ts';
import { trainingRun } from '../../../src/warmup/code-cache.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-simulated-test-`);
const { catalog } = builtinRegistry();
const warmupDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('startvm-warmup-'));

/** A profile whose files exist; /bin/true stands in for QEMU (exec-kvm checks it is a runnable ELF). */
function profileWith(stages: string, vm = '', name = 'profile.yaml') {
  writeFileSync(`${scratch}/vmlinuz`, 'kernel');
  const file = `${scratch}/${name}`;
  const text = `version: 1\nvm: { qemu: /bin/true, kernel: ${scratch}/vmlinuz, accel: tcg, display: none${vm ? `, ${vm}` : ''} }\n${stages}`;
  writeFileSync(file, text);
  const { profile, problems } = checkProfile(text, file, { env: {}, catalog });
  assert.equal(problems, []);
  return { profile: profile!, file };
}

test('the simulated network is what capture takes over: one interface per name, with a default route', () => {
  for (const interfaces of ['auto', ['eth0', 'net1']] as ('auto' | string[])[]) {
    const { interfaces: taken, skipped } = selectInterfaces(simulatedNetwork(interfaces), interfaces);
    assert.equal(taken.map((i) => i.name), interfaces === 'auto' ? ['eth0'] : ['eth0', 'net1']);
    assert.equal(skipped, []);
    assert.ok(taken[0]!.routes.some((r) => r.dst === 'default'));
  }
});

test('the default pipeline reaches the hand-over, and its run directory is gone afterwards', async () => {
  const before = warmupDirs();
  const { profile, file } = profileWith('stages: [capture, bridge, readdress, dhcp, exec-kvm]\n');
  assert.ok(await simulateStart(profile, file));
  assert.equal(warmupDirs().filter((d) => !before.includes(d)), []);
});

test('subnet mode, two interfaces and DHCP off reach the hand-over too', async () => {
  const { profile, file } = profileWith('network: { interfaces: [eth0, eth1] }\nstages: [capture, bridge, { stage: readdress, options: { mode: subnet } }, { stage: dhcp, enabled: false }, exec-kvm]\n');
  assert.ok(await simulateStart(profile, file));
});

test('a start that stops early (a disk missing at image build) says where, and cleans up', async () => {
  const before = warmupDirs();
  const { profile, file } = profileWith(`stages: [capture, bridge, readdress, dhcp, exec-kvm]\n`, `disks: [{ path: ${scratch}/no-such-disk.qcow2 }]`);
  const error = await simulateStart(profile, file).catch((e: unknown) => e);
  assert.instance(error, Error);
  assert.match((error as Error).message, /stage "exec-kvm" failed: missing file: .*no-such-disk\.qcow2/);
  assert.equal(warmupDirs().filter((d) => !before.includes(d)), []);
});

test('the training run turns an early stop into a note, and skips profiles with errors', async () => {
  const { file: good } = profileWith(`stages: [capture, bridge, readdress, dhcp, exec-kvm]\n`, `disks: [{ path: ${scratch}/no-such-disk.qcow2 }]`, 'early.yaml');
  const broken = `${scratch}/broken.yaml`;
  writeFileSync(broken, 'version: 1\nvm: { memory: lots }\n');
  const notes = await trainingRun([good, broken], catalog);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /early\.yaml: the simulated start stopped early \(stage "exec-kvm" failed: missing file.*\); the code before that point is trained/);
});

test('stages from modules are left out: not even imported, their code is the user\'s', async () => {
  const marker = `${scratch}/imported`;
  const module = `${scratch}/side-effect.mjs`;
  writeFileSync(module, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\nexport default { name: 'side-effect', description: 'x', async apply() {} };\n`);
  const { profile, file } = profileWith(`stages: [capture, { stage: side-effect, module: ${module} }, bridge, readdress, dhcp, exec-kvm]\n`);
  assert.ok(await simulateStart(profile, file));
  assert.not.ok(existsSync(marker), 'the module was never imported');
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
