// The hand-over itself, in a container namespace: what must still happen when process.execve replaces
// startvm, whose 'exit' handlers never run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { root } from '../helpers/paths.ts';
import { cleanupAll, createContainer, createHost, ensureTools } from './harness.ts';
import { runStartvm } from './support.ts';

test.before(async () => {
  await ensureTools();
});
test.after.each(() => cleanupAll());

/** Every file below dir with its size. */
const filesIn = (dir: string): { path: string; size: number }[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesIn(`${dir}/${e.name}`) : [{ path: `${dir}/${e.name}`, size: statSync(`${dir}/${e.name}`).size }]));

/**
 * A fresh container, and a temp dir with a kernel file for a profile whose only stage is the
 * hand-over (nothing in the namespace changes; /bin/true stands in for QEMU and exits at once).
 */
async function handOverOnly(vm = ''): Promise<{ ctr: Awaited<ReturnType<typeof createContainer>>; dir: string; profile: string }> {
  const host = await createHost();
  const ctr = await createContainer(host, { address: '172.17.0.2' });
  const dir = mkdtempSync('/tmp/startvm-handover-test-');
  writeFileSync(`${dir}/vmlinuz`, 'not a kernel: /bin/true stands in for QEMU');
  const profile = `version: 1\nvm: { qemu: /bin/true, kernel: ${dir}/vmlinuz, accel: tcg, display: none${vm} }\nstages: [exec-kvm]\n`;
  return { ctr, dir, profile };
}

test("without a code cache, a start that hands over still writes Node's compile cache for the next start", async () => {
  const { ctr, dir, profile } = await handOverOnly();
  try {
    const run = await runStartvm(ctr, profile, { STARTVM_CODE_CACHE: `${dir}/no-code-cache`, NODE_COMPILE_CACHE: `${dir}/compile-cache` });
    assert.is(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /handing over to \/bin\/true/);
    // bin/startvm (a few KB) and the bundle (tens of KB): process.execve runs Node's at-exit work
    // (the compile cache's write among it) before its system call; startvm does not flush it itself.
    const entries = filesIn(`${dir}/compile-cache`);
    assert.ok(entries.some((e) => e.size > 20_000), `the bundle's compile cache: ${JSON.stringify(entries)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a start of a profile the cache was trained on hands over with the cache's parse of it", async () => {
  const { ctr, dir, profile } = await handOverOnly(', memory: 256');
  try {
    // Trained as the image build does, on a file with this text (the cache keys parses by text).
    writeFileSync(`${dir}/trained.yaml`, profile);
    const cache = `${dir}/code-cache`;
    const lint = await execa(process.execPath, [`${root}bin/startvm`, 'lint', '--cache', `${dir}/trained.yaml`], { env: { STARTVM_CODE_CACHE: cache }, reject: false });
    assert.is(lint.exitCode, 0, lint.stderr);
    // The cache's parse says 384 MiB where the text says 256 (lint --cache never writes such a
    // thing): QEMU's -m shows which one the start read.
    const data = readFileSync(cache);
    const first = data.indexOf(10);
    const second = data.indexOf(10, first + 1);
    const parses = JSON.parse(data.toString('utf8', first + 1, second)) as { text: string; data: { vm: { memory: number } }; checked: { vm: { memory: number } } }[];
    assert.equal(parses.map((p) => p.text), [profile]);
    // The checked form is what a start without env overrides takes; the parse, with one.
    parses[0]!.checked.vm.memory = 384;
    writeFileSync(cache, Buffer.concat([data.subarray(0, first + 1), Buffer.from(`${JSON.stringify(parses)}\n`), data.subarray(second + 1)]));
    const run = await runStartvm(ctr, profile, { STARTVM_CODE_CACHE: cache });
    assert.is(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /handing over to \/bin\/true/);
    assert.match(run.stderr, / -m 384 /, 'the QEMU command line has the memory of the cached checked form');
    // With an env override set, the start checks the cached parse through the schema instead.
    const overridden = await runStartvm(ctr, profile, { STARTVM_CODE_CACHE: cache, STARTVM_CPUS: '2' });
    assert.is(overridden.exitCode, 0, overridden.stderr);
    assert.match(overridden.stderr, / -m 256 /);
    assert.match(overridden.stderr, / -smp 2[ ,]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
