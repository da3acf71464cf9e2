// The benchmark itself works: `bench/run.ts --quick` (2 runs) measures all four sections and prints
// their tables. It asserts the report's shape and that every variant really handed over (the bench
// checks the namespace after each run), never a time: timings belong to the report, not to tests.
// Needs root, like the network tests (the hand-over runs in harness namespaces).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { root } from '../../helpers/paths.ts';
import { entrypointNodeOptions, imageNodeOptions } from '../../../bench/entrypoint.ts';

test('the benchmark starts startvm with the Node options of the Dockerfile ENTRYPOINT, and only that shape', () => {
  assert.equal(entrypointNodeOptions('FROM x\nENTRYPOINT ["node", "--a", "--b=1", "/opt/startvm/bin/startvm"]\nCMD ["run"]\n'), ['--a', '--b=1']);
  assert.equal(entrypointNodeOptions('ENTRYPOINT ["node", "/opt/startvm/bin/startvm"]\n'), []);
  // The last ENTRYPOINT counts (the runtime stage's), as for docker build.
  assert.equal(entrypointNodeOptions('ENTRYPOINT ["node", "--a", "/x/bin/startvm"]\nFROM y\nENTRYPOINT ["node", "/x/bin/startvm"]\n'), []);
  for (const broken of ['FROM x\n', 'ENTRYPOINT node /opt/startvm/bin/startvm\n', 'ENTRYPOINT ["/opt/startvm/bin/startvm"]\n', 'ENTRYPOINT ["node", "--a", "/opt/other.js"]\n']) {
    assert.throws(() => entrypointNodeOptions(broken), /ENTRYPOINT/, broken);
  }
  assert.ok(Array.isArray(imageNodeOptions()), 'the repository\'s Dockerfile has that shape');
});

test('bench/run.ts --quick prints the four sections with medians, the ratio and the targets', async () => {
  const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('startvm-bench-') && !f.endsWith('.cpuprofile')));
  const result = await execa(process.execPath, [`${root}bench/run.ts`, '--quick', '--runs', '2'], { cwd: root, reject: false, timeout: 180_000, env: { NO_COLOR: '1' } });
  // 0: every target met, 1: a target missed (a finding, not a broken benchmark); 2 or a signal: broken.
  assert.ok(result.exitCode === 0 || result.exitCode === 1, `exit ${result.exitCode}\n${result.stderr}\n${result.stdout}`);
  const out = result.stdout;

  for (const title of ['1. Time to hand-over', '2. Residual cost after the hand-over', '3. Lint throughput', '4. Validation (checkProfile in the process)']) {
    assert.ok(out.includes(`${title}\n${'='.repeat(title.length)}\n`), `section "${title}" is printed:\n${out}`);
  }
  // 1: startvm as the image runs it and untrained, the script and the floor with a median, the
  // ratio against its target, the phases.
  const started = out.split('\n').find((line) => line.startsWith('startvm: node ')) ?? '';
  assert.is(started.replace(/ \S+\/bin\/startvm \(the Dockerfile's ENTRYPOINT\);.*/, ''), ['startvm: node', ...imageNodeOptions()].join(' '), `started as the image starts it: ${started}`);
  assert.match(out, /^startvm run, as the image runs it \(trained code cache\)\s+\d[\d.]* (ms|µs)\s/m);
  assert.match(out, /^startvm run, untrained \(no lint --cache at install\)\s+\d[\d.]* (ms|µs)\s/m);
  assert.match(out, /^shell baseline \(bench\/baseline\.sh\)\s+\d[\d.]* (ms|µs)\s/m);
  assert.match(out, /^floor: stand-in exec’d directly/m);
  assert.match(out, /^ratio startvm \/ shell \(medians\)\s+\d+\.\d\d\s+≤ 1\.00\s+(PASS|FAIL)$/m);
  assert.match(out, /^ratio startvm untrained \/ shell\s+\d+\.\d\d\s*$/m);
  assert.match(out, /^ratio startvm \/ shell, paired: median of the rounds' ratios \(quartiles\)\s+\d+\.\d\d\s+\d+\.\d\d–\d+\.\d\d\s*$/m);
  assert.match(out, /untrained phase: dhcp/);
  assert.match(out, /startvm phase: dhcp/);
  assert.match(out, /n=2 each/);
  // 2: the VM process is named and dnsmasq is measured for both variants.
  assert.match(out, /^startvm\s+VM process: qemu-standin/m);
  // (Whether only dnsmasq remains is the benchmark's finding, PASS or FAIL; the test needs the row.)
  assert.match(out, /^startvm\s+dnsmasq ×\d+ \(state [A-Z/]+\)\s+\d+ KiB\s+\d+ KiB\s+floor: the DHCP server\s+(PASS|FAIL)$/m);
  assert.match(out, /^shell\s+dnsmasq ×\d+/m);
  // 3: throughput and the start-up part.
  assert.match(out, /^lint 200 profiles, one invocation\s+\S+ ms\s+\d+ profiles\/s/m);
  assert.match(out, /^start-up: lint one profile\s/m);
  assert.match(out, /^start-up: startvm --version\s/m);
  assert.match(out, /lint judged every file as generated/);
  // 4: first call and the warm median.
  assert.match(out, /^first load \+ check of profiles\/default\.yaml \(cold\)\s+\S+ (ms|µs)/m);
  assert.match(out, /^load \+ check, warm \(median of 20 after 10 warm-up\)/m);
  assert.match(out, /profiles\/default\.yaml was valid in every call/);

  // Every run handed over for real (same PID, bridge, tap, address moved, dnsmasq): no problem lines.
  assert.not.match(out, /PROBLEM/);
  // Nothing left behind: no namespace of ours, no bench temp dir.
  assert.equal(readdirSync(tmpdir()).filter((f) => f.startsWith('startvm-bench-') && !f.endsWith('.cpuprofile') && !before.has(f)), []);
  if (existsSync('/run/netns')) assert.equal(readdirSync('/run/netns').filter((ns) => /^sv[0-9a-z]{5}[hc]/.test(ns) && !existsSync(`/proc/${parseInt(ns.slice(2, 7), 36)}`)), []);
});

test.run();
