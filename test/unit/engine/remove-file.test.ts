// Removing what may not be there (src/engine/remove-file.ts): files, trees, dangling links, nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { removeFile, removeTree } from '../../../src/engine/remove-file.ts';

const scratch = mkdtempSync(`${tmpdir()}/startvm-remove-test-`);

test('removeFile: a file goes, a missing one is no error, a directory is one', () => {
  writeFileSync(`${scratch}/file`, 'x');
  removeFile(`${scratch}/file`);
  assert.not.ok(existsSync(`${scratch}/file`));
  removeFile(`${scratch}/file`);
  mkdirSync(`${scratch}/dir`);
  assert.throws(() => removeFile(`${scratch}/dir`));
  rmSync(`${scratch}/dir`, { recursive: true });
});

test('removeTree: a tree goes, a dangling link goes, a missing path is no error', () => {
  mkdirSync(`${scratch}/tree/sub`, { recursive: true });
  writeFileSync(`${scratch}/tree/sub/leases`, 'x');
  removeTree(`${scratch}/tree`);
  assert.not.ok(existsSync(`${scratch}/tree`));
  symlinkSync(`${scratch}/nowhere`, `${scratch}/link`);
  removeTree(`${scratch}/link`);
  assert.throws(() => lstatSync(`${scratch}/link`), 'the link itself is gone');
  removeTree(`${scratch}/missing`);
  assert.equal(readdirSync(scratch), []);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));
test.run();
