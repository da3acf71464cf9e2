// Failure before the hand-over leaves the namespace exactly as it was; a restart in the same
// namespace (Kubernetes) recovers; state from another namespace (Docker restart) is ignored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { cleanupAll, createContainer, createHost, createVmPort, ensureTools, execInContainer, ipNs, runDhcpClient, snapshot, type Container } from './harness.ts';
import { failingStage, hangingStage, networkProfile, runStartvm, STAGE_MODULES, startStartvm, waitForFile, writeProfile } from './support.ts';
import { processName } from '../../src/engine/process.ts';
import { root } from '../helpers/paths.ts';

test.before(async () => {
  await ensureTools();
});
test.after.each(() => cleanupAll());

async function dockerLikeContainer(): Promise<Container> {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2', nameservers: ['127.0.0.11'], search: ['corp.example'] });
  await createVmPort(ctr);
  return ctr;
}

const processesIn = async (ns: string): Promise<string[]> => (await execa('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean);

const upTo = (last: 'capture' | 'bridge' | 'readdress' | 'dhcp'): string[] => {
  const all = networkProfile().split('\n');
  const cut = all.findIndex((line) => line.includes(`stage: ${last}`) || line === `  - ${last}`);
  const end = last === 'capture' ? cut + 1 : cut + 2;
  return all.slice(0, end);
};

for (const stage of ['capture', 'bridge', 'readdress', 'dhcp'] as const) {
  test(`a stage failing after ${stage}: everything is rolled back, the namespace compares equal`, async () => {
    const ctr = await dockerLikeContainer();
    const before = snapshot(ctr);
    const run = await runStartvm(ctr, `${upTo(stage).join('\n')}\n  - ${failingStage}\n`);
    assert.is(run.exitCode, 1, run.stderr);
    assert.match(run.stderr, /stage "announce" failed: announce was told to fail/);
    assert.equal(snapshot(ctr), before);
    assert.equal(await processesIn(ctr.ns), [], 'no dnsmasq left');
    assert.equal(readdirSync(run.runDir), [], 'no stray files, no saved state');
  });
}

test('a missing dnsmasq is refused before anything changes, with a clear error', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const run = await runStartvm(ctr, networkProfile({ dhcp: 'dnsmasq: /nonexistent/dnsmasq' }));
  assert.is(run.exitCode, 1);
  assert.match(run.stderr, /stage "dhcp" cannot run: dnsmasq binary "\/nonexistent\/dnsmasq" not found: install dnsmasq-base, or set NO_DHCP=true when the network runs DHCP itself; nothing was changed/);
  assert.not.match(run.stderr, /\[capture\] start/, 'no stage ran');
  assert.equal(snapshot(ctr), before);
  assert.equal(readdirSync(run.runDir), []);
});

test('dnsmasq refusing its configuration: its exit status is reported and everything rolls back', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const dir = mkdtempSync('/tmp/startvm-badtpl-');
  writeFileSync(`${dir}/bad.mustache`, 'no-such-dnsmasq-option=1\n');
  const run = await runStartvm(ctr, networkProfile({ dhcp: `template: ${dir}/bad.mustache` }));
  assert.is(run.exitCode, 1);
  assert.match(run.stderr, /dnsmasq exited with code 1 \(configuration problem\)/);
  assert.equal(snapshot(ctr), before);
});

test('a missing QEMU binary is refused before the network is touched', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const run = await runStartvm(ctr, networkProfile({ vmPorts: null, stagesAfter: ['exec-kvm'], vm: '{ qemu: /nonexistent/qemu-system-x86_64, accel: tcg }' }));
  assert.is(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /stage "exec-kvm" cannot run: QEMU binary "\/nonexistent\/qemu-system-x86_64" not found or not executable .*; nothing was changed/);
  assert.not.match(run.stderr, /\[capture\] start/);
  assert.equal(snapshot(ctr), before);
});

test('a QEMU binary the kernel would refuse (a truncated ELF) is refused before any change', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const dir = mkdtempSync('/tmp/startvm-badexec-');
  writeFileSync(`${dir}/qemu`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]), { mode: 0o755 });
  const run = await runStartvm(ctr, networkProfile({ vmPorts: null, stagesAfter: ['exec-kvm'], vm: `{ qemu: ${dir}/qemu, accel: tcg }` }));
  assert.is(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /stage "exec-kvm" cannot run: QEMU binary .* cannot be executed: it is neither an ELF program nor a #! script; nothing was changed/);
  assert.equal(snapshot(ctr), before);
});

test('a failure in the last stage, after every network change, rolls back the whole pipeline', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const dir = mkdtempSync('/tmp/startvm-vanish-');
  copyFileSync('/bin/true', `${dir}/qemu`);
  const profile = networkProfile({ vmPorts: null, stagesAfter: [`{ stage: remove-file, module: ${STAGE_MODULES}/remove-file.mjs, options: { path: ${dir}/qemu } }`, 'exec-kvm'], vm: `{ qemu: ${dir}/qemu, accel: tcg }` });
  const run = await runStartvm(ctr, profile);
  assert.is(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /stage "exec-kvm" failed: QEMU binary ".*\/qemu" not found or not executable/);
  assert.match(run.stderr, /\[dhcp\] rolled-back[\s\S]*\[readdress\] rolled-back[\s\S]*\[bridge\] rolled-back/);
  assert.equal(snapshot(ctr), before);
  assert.equal(await processesIn(ctr.ns), []);
  assert.equal(readdirSync(run.runDir), []);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} mid-pipeline: rolled back, exit 128+n, namespace equal, no dnsmasq`, async () => {
    const ctr = await dockerLikeContainer();
    const before = snapshot(ctr);
    const { child, runDir } = startStartvm(ctr, networkProfile({ stagesAfter: [hangingStage] }));
    await waitForFile(`${runDir}/hang.ready`);
    assert.ok((await processesIn(ctr.ns)).length >= 2, 'startvm and dnsmasq are running');
    child.kill(signal);
    const result = await child;
    assert.is(result.exitCode, signal === 'SIGTERM' ? 143 : 130, String(result.stderr));
    assert.match(String(result.stderr), new RegExp(`interrupted by ${signal} during stage "hang"`));
    assert.equal(snapshot(ctr), before);
    assert.equal(await processesIn(ctr.ns), []);
    assert.equal(readdirSync(runDir), []);
  });
}

/** The dnsmasq processes in the namespace (names read once: one that is exiting may be gone). */
const dnsmasqsIn = async (ns: string): Promise<string[]> => (await processesIn(ns)).filter((pid) => processName(Number(pid)) === 'dnsmasq');
/** The pipeline up to readdress, a stage that waits (hang), then dhcp: dnsmasq is started ahead and waits for its config. */
const hangBeforeDhcp = (): string => `${upTo('readdress').join('\n')}\n  - ${hangingStage}\n  - dhcp\n`;

test('startvm killed while the dnsmasq it started ahead waits for its config: that dnsmasq exits on its own and never serves', async () => {
  const ctr = await dockerLikeContainer();
  // An earlier start's config in the run directory: the waiting dnsmasq must not fall back on it.
  const runDir = `${mkdtempSync('/tmp/startvm-stale-')}/run`;
  mkdirSync(`${runDir}/dnsmasq`, { recursive: true });
  writeFileSync(`${runDir}/dnsmasq/dnsmasq.conf`, `interface=br0\nbind-interfaces\nport=0\ndhcp-range=172.17.0.2,static\npid-file=${runDir}/dnsmasq/dnsmasq.pid\n`);
  const { child } = startStartvm(ctr, hangBeforeDhcp(), {}, runDir);
  await waitForFile(`${runDir}/hang.ready`);
  const waiting = await dnsmasqsIn(ctr.ns);
  assert.is(waiting.length, 1, 'dnsmasq started ahead');
  assert.ok(readFileSync(`/proc/${waiting[0]}/cmdline`, 'utf8').endsWith('--conf-file=-\0'), 'and waits on its stdin');
  child.kill('SIGKILL'); // no rollback, no dispose: only the end of its stdin tells dnsmasq
  await child;
  // Its stdin ends empty; it finds no config file and exits instead of serving on its defaults.
  const deadline = Date.now() + 5000;
  while ((await dnsmasqsIn(ctr.ns)).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await dnsmasqsIn(ctr.ns), [], 'the waiting dnsmasq is gone');
});

test('SIGTERM while the dnsmasq started ahead waits: it is stopped with the rest, everything rolls back, exit 143', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const { child, runDir } = startStartvm(ctr, hangBeforeDhcp());
  await waitForFile(`${runDir}/hang.ready`);
  assert.is((await dnsmasqsIn(ctr.ns)).length, 1, 'dnsmasq started ahead');
  child.kill('SIGTERM');
  const result = await child;
  assert.is(result.exitCode, 143, String(result.stderr));
  assert.match(String(result.stderr), /interrupted by SIGTERM during stage "hang"/);
  assert.equal(snapshot(ctr), before);
  assert.equal(await processesIn(ctr.ns), [], 'no dnsmasq, no ip left');
  assert.equal(readdirSync(runDir), []);
});

test('startvm as PID 1 (as the image runs it): a failure after dhcp stops the dnsmasq it adopted, in the rollback', async () => {
  // A daemonised dnsmasq is the child of PID 1: in a container, of startvm itself. The PID
  // namespace's end would kill it anyway; the stage before dhcp counts what dhcp's rollback left.
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const report = `${mkdtempSync('/tmp/startvm-pid1-')}/dnsmasq-count`;
  const counter = `{ stage: count-dnsmasq, module: ${STAGE_MODULES}/count-dnsmasq.mjs, options: { report: ${report} } }`;
  const { profile, runDir } = writeProfile(`${upTo('readdress').join('\n')}\n  - ${counter}\n  - dhcp\n  - ${failingStage}\n`);
  const run = await execInContainer(ctr, 'unshare', ['--pid', '--fork', '--mount-proc', process.execPath, `${root}bin/startvm`, 'run', '--profile', profile, '--run-dir', runDir], { reject: false, env: { NO_COLOR: '1' } });
  assert.is(run.exitCode, 1, String(run.stderr));
  assert.match(String(run.stderr), /\[dhcp\] rolled-back/);
  assert.is(readFileSync(report, 'utf8'), '0', 'no dnsmasq running after dhcp rolled back');
  assert.equal(snapshot(ctr), before);
  assert.equal(await processesIn(ctr.ns), []);
});

test('re-entry: after startvm was killed mid-way, a second start in the same namespace reaches the same result without duplicates', async () => {
  const ctr = await dockerLikeContainer();
  const first = startStartvm(ctr, networkProfile({ stagesAfter: [hangingStage] }));
  await waitForFile(`${first.runDir}/hang.ready`);
  const configured = snapshot(ctr);
  first.child.kill('SIGKILL'); // no rollback: like a container killed while starting
  await first.child;
  // The container's other processes die with it: dnsmasq too.
  const leftover = Number(readFileSync(`${first.runDir}/dnsmasq/dnsmasq.pid`, 'utf8'));
  process.kill(leftover, 'SIGKILL');
  assert.ok(existsSync(`${first.runDir}/state.json`));

  const second = await runStartvm(ctr, networkProfile(), {}, first.runDir);
  assert.is(second.exitCode, 0, second.stderr);
  assert.match(second.stderr, /re-entry: recovered the captured configuration/);
  const after = snapshot(ctr);
  assert.equal(after.links, configured.links, 'same bridge, ports and MACs');
  assert.equal(after.addresses, configured.addresses, 'same bridge address, nothing duplicated');
  assert.equal(after.routes, configured.routes, 'same routes, nothing duplicated');

  const vmNs = (await execa('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).find((n) => n.endsWith('v') || /v[0-9a-z]+$/.test(n));
  void vmNs;
  const lease = await runDhcpClient(await vmOf(ctr), 'eth0');
  assert.is(lease.received?.ip, '172.17.0.2', 'the restarted dnsmasq serves the VM its address (no stale lease)');
});

test('re-entry while the first dnsmasq still runs: it is replaced, not duplicated', async () => {
  const ctr = await dockerLikeContainer();
  const first = await runStartvm(ctr, networkProfile());
  assert.is(first.exitCode, 0, first.stderr);
  const second = await runStartvm(ctr, networkProfile(), {}, first.runDir);
  assert.is(second.exitCode, 0, second.stderr);
  const dnsmasqs = (await processesIn(ctr.ns)).filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'dnsmasq');
  assert.is(dnsmasqs.length, 1);
});

test('a second start interrupted before the hand-over undoes the first start too: back to the original network', async () => {
  const ctr = await dockerLikeContainer();
  const original = snapshot(ctr);
  const first = startStartvm(ctr, networkProfile({ stagesAfter: [hangingStage] }));
  await waitForFile(`${first.runDir}/hang.ready`);
  first.child.kill('SIGKILL');
  await first.child;
  process.kill(Number(readFileSync(`${first.runDir}/dnsmasq/dnsmasq.pid`, 'utf8')), 'SIGKILL');
  rmSync(`${first.runDir}/hang.ready`);

  const second = startStartvm(ctr, networkProfile({ stagesAfter: [hangingStage] }), {}, first.runDir);
  await waitForFile(`${first.runDir}/hang.ready`);
  second.child.kill('SIGTERM');
  const result = await second.child;
  assert.is(result.exitCode, 143, String(result.stderr));
  assert.equal(snapshot(ctr), original);
  assert.equal(readdirSync(first.runDir), []);
});

test('a second startvm in the same run directory is refused while the first runs', async () => {
  const ctr = await dockerLikeContainer();
  const first = startStartvm(ctr, networkProfile({ stagesAfter: [hangingStage] }));
  await waitForFile(`${first.runDir}/hang.ready`);
  const during = snapshot(ctr);
  const second = await runStartvm(ctr, networkProfile(), {}, first.runDir);
  assert.is(second.exitCode, 1);
  assert.match(second.stderr, new RegExp(`startvm is already running in ${first.runDir} \\(PID ${first.child.pid}`));
  assert.equal(snapshot(ctr), during, 'the second start changed nothing');
  first.child.kill('SIGTERM');
  await first.child;
});

test('an ip command that the kernel refuses in the middle of a batch: the error names it, and everything is rolled back', async () => {
  // A bridge given as the VM port passes every check startvm makes; only the kernel refuses to put a
  // bridge on a bridge, halfway through the bridge stage's batch (the one ip process of the start).
  const ctr = await dockerLikeContainer();
  await ipNs(ctr, ['link', 'del', 'vmport0']);
  await ipNs(ctr, ['link', 'add', 'vmport0', 'type', 'bridge']);
  const before = snapshot(ctr);
  const run = await runStartvm(ctr, networkProfile());
  assert.is(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /stage "bridge" failed: ip link set vmport0 master br0 failed with exit code \d+: Error: Can not enslave a bridge to a bridge/);
  assert.match(run.stderr, /\[bridge\] rolled-back/);
  assert.equal(snapshot(ctr), before);
  assert.equal(await processesIn(ctr.ns), [], 'no ip or dnsmasq left');
});

test('a stage before capture that changes links with a process of its own: capture reads the network again and sees the change', async () => {
  // startvm reads the network when it starts; a stage that ran since then makes that read stale.
  const ctr = await dockerLikeContainer();
  const run = await runStartvm(ctr, `version: 1\nnetwork:\n  interfaces: [extra7]\nstages:\n  - { stage: add-link, module: ${STAGE_MODULES}/add-link.mjs }\n  - capture\n`);
  assert.is(run.exitCode, 0, run.stderr);
  assert.match(run.stderr, /captured extra7: 192\.0\.2\.7\/24/);
});

test('a tap name that is an existing interface is refused, and that interface is left alone', async () => {
  const ctr = await dockerLikeContainer();
  const before = snapshot(ctr);
  const run = await runStartvm(ctr, `version: 1\nstages:\n  - capture\n  - { stage: bridge, options: { tapName: "eth{{index}}" } }\n`);
  assert.is(run.exitCode, 1, run.stderr);
  assert.match(run.stderr, /eth0 exists and is not a tap; choose another bridge\.options\.tapName/);
  assert.equal(snapshot(ctr), before);
});

test('state saved in another network namespace (Docker restart: new namespace, same filesystem) is ignored', async () => {
  const host = await createHost();
  const a = await createContainer(host, { address: '172.17.0.2' });
  await createVmPort(a);
  const first = await runStartvm(a, networkProfile());
  assert.is(first.exitCode, 0, first.stderr);

  const b = await createContainer(host, { address: '172.17.0.3' });
  const vmB = await createVmPort(b);
  const runDir = `${first.runDir}-b`;
  mkdirSync(runDir);
  copyFileSync(`${first.runDir}/state.json`, `${runDir}/state.json`);
  const second = await runStartvm(b, networkProfile(), {}, runDir);
  assert.is(second.exitCode, 0, second.stderr);
  assert.match(second.stderr, /ignoring .*state\.json: it was saved in another network namespace/);
  const lease = await runDhcpClient(vmB, 'eth0');
  assert.is(lease.received?.ip, '172.17.0.3', "B's own address, not A's");
});

/** The harness's VM namespace for a container's vmport0 (created by dockerLikeContainer). */
async function vmOf(ctr: Container): Promise<string> {
  const peer = JSON.parse(await ipNs(ctr.ns, ['-json', '-details', 'link', 'show', 'vmport0']))[0];
  const nsid = peer.link_netnsid as number;
  const list = JSON.parse((await execa('ip', ['-json', '-n', ctr.ns, 'netns', 'list-id'])).stdout) as { nsid: number; name?: string }[];
  const name = list.find((entry) => entry.nsid === nsid)?.name;
  if (!name) throw new Error('VM namespace of vmport0 not found');
  return name;
}

test.run();
