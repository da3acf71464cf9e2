// The README's demo runs end to end and leaves nothing behind, also when interrupted with Ctrl-C.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { root } from '../helpers/paths.ts';

/** A zombie waiting for PID 1 to reap it counts as gone. */
const running = (pid: number): boolean => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};
const prefixOf = (pid: number): string => `sv${pid.toString(36).padStart(5, '0')}`;
const namespacesWith = async (prefix: string): Promise<string[]> =>
  (await execa('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(prefix));

test('npm run demo: stages shown, the guest answers at the container address, everything removed', async () => {
  const demo = execa(process.execPath, [`${root}scripts/demo.ts`], { reject: false, cwd: root, all: true });
  const result = await demo;
  assert.is(result.exitCode, 0, String(result.all));
  const output = String(result.all);
  for (const stage of ['capture', 'bridge', 'readdress', 'dhcp']) assert.match(output, new RegExp(`\\[${stage}\\] done`));
  assert.match(output, /handing over to .*qemu-system-x86_64/);
  assert.match(output, /startvm-guest hostname=demo-vm ip=172\.17\.0\.2/);
  assert.equal(await namespacesWith(prefixOf(demo.pid!)), []);
  const qemuPid = Number(/PID (\d+), the PID startvm had/.exec(output)?.[1]);
  assert.ok(qemuPid > 0);
  assert.not.ok(running(qemuPid), 'QEMU is gone');
});

test('Ctrl-C during npm run demo -- --keep removes everything', async () => {
  const demo = execa(process.execPath, [`${root}scripts/demo.ts`, '--keep'], { reject: false, cwd: root, all: true });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the demo did not get ready: ${seen}`)), 120_000);
    demo.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('press Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  assert.ok((await namespacesWith(prefixOf(demo.pid!))).length > 0, 'the demo namespaces exist while it runs');
  demo.kill('SIGINT');
  const result = await demo;
  assert.is(result.exitCode, 130);
  assert.equal(await namespacesWith(prefixOf(demo.pid!)), []);
});

test.run();
