// Processes startvm looks at by PID (src/engine/process.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parentOf } from '../../../src/engine/process.ts';

test('parentOf: the parent PID from /proc, for a child of ours and for this process; undefined for a PID that is gone', async () => {
  assert.is(parentOf(process.pid), process.ppid);
  // A command name with a space and a parenthesis cannot shift the fields (the name is read up to the last ")").
  const dir = mkdtempSync(`${tmpdir()}/startvm-process-test-`);
  copyFileSync('/bin/sleep', `${dir}/odd ) name`);
  const child = spawn(`${dir}/odd ) name`, ['5'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim(), 'odd ) name');
    assert.is(parentOf(child.pid!), process.pid);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  assert.is(parentOf(2 ** 22 + 1), undefined);
});

test.run();
