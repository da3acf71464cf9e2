// Before the exec, startvm makes sure the kernel will accept the QEMU binary: Node's execve aborts
// the process on failure, which would leave the network half set up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execProblem } from '../../../src/qemu/probes.ts';

const dir = mkdtempSync(`${tmpdir()}/startvm-probes-`);
const file = (name: string, content: string | Buffer): string => {
  writeFileSync(`${dir}/${name}`, content, { mode: 0o755 });
  return `${dir}/${name}`;
};

test('a program for this machine and a script with an existing interpreter are runnable', () => {
  assert.is(execProblem(process.execPath), undefined);
  assert.is(execProblem(file('ok.sh', '#!/bin/sh\nexit 0\n')), undefined);
  assert.is(execProblem(file('ok-env.sh', '#! /usr/bin/env  bash\n')), undefined);
});

test('a script whose interpreter is missing is refused, naming the interpreter', () => {
  assert.is(execProblem(file('bad.sh', '#!/no/such/shell\n')), 'its interpreter "/no/such/shell" (#! line) is missing or not executable');
});

test('a file that is neither ELF nor a script is refused', () => {
  assert.is(execProblem(file('text', 'hello\n')), 'it is neither an ELF program nor a #! script');
  assert.is(execProblem(file('empty', '')), 'it is neither an ELF program nor a #! script');
});

test('an ELF for another machine is refused', () => {
  const elf = Buffer.alloc(64);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little endian
  elf.writeUInt16LE(process.arch === 'x64' ? 183 : 62, 18); // the other common machine
  assert.match(execProblem(file('other-arch', elf)) ?? '', /^it is an ELF program for another machine/);
  elf[4] = 0; // invalid class
  assert.match(execProblem(file('no-class', elf)) ?? '', /^it is an ELF program for another machine/);
});

test('a dynamically linked program whose loader is missing is refused, naming the loader', () => {
  const program = readFileSync('/bin/true');
  const loader = /\/lib[^\0]*ld-linux[^\0]*/.exec(program.toString('latin1'))?.[0];
  assert.ok(loader, '/bin/true names its dynamic loader');
  const missing = loader.replace('ld-linux', 'ld-gone!');
  const patched = Buffer.from(program.toString('latin1').replace(loader, missing), 'latin1');
  assert.is(execProblem(file('no-loader', patched)), `its dynamic loader ${missing} is missing (a program built for another system?)`);
  assert.is(execProblem(file('true-copy', program)), undefined);
});

test('an unreadable path says why', () => {
  assert.is(execProblem(`${dir}/missing`), 'cannot read it (ENOENT)');
});

test.run();
