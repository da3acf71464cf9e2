// An internal error's stack, printed from the minified bundle, names the sources (src/cli/stack.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readableStack } from '../../../src/cli/stack.ts';

test('frames in a bundle with a source map are mapped back; others stay as they are', () => {
  const root = mkdtempSync(`${tmpdir()}/startvm-stack-test-`);
  try {
    mkdirSync(`${root}/dist`);
    // Line 1 of the bundle comes from line 1 of main.ts, line 2 from line 3 of pipeline.ts, column 4.
    writeFileSync(`${root}/dist/startvm.cjs.map`, JSON.stringify({ version: 3, sources: ['../src/cli/main.ts', '../src/engine/pipeline.ts'], names: [], mappings: 'AAAA;ACEI' }));
    const stack = [
      'Error: boom',
      `    at Ab (${root}/dist/startvm.cjs:2:1)`,
      `    at ${root}/dist/startvm.cjs:1:1`,
      `    at other (${root}/elsewhere/unmapped.cjs:7:9)`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
    ].join('\n');
    assert.is(
      readableStack(stack),
      [
        'Error: boom',
        `    at Ab (${root}/src/engine/pipeline.ts:3:5)`,
        `    at ${root}/src/cli/main.ts:1:1`,
        `    at other (${root}/elsewhere/unmapped.cjs:7:9)`,
        '    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)',
      ].join('\n'),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a map that does not fit the bundle leaves the stack as it is, and never throws', () => {
  const root = mkdtempSync(`${tmpdir()}/startvm-stack-test-`);
  try {
    mkdirSync(`${root}/dist`);
    const stack = `Error: boom\n    at Ab (${root}/dist/startvm.cjs:1:1)`;
    for (const sources of [[null], [5], []]) {
      writeFileSync(`${root}/dist/startvm.cjs.map`, JSON.stringify({ version: 3, sources, names: [], mappings: 'AAAA' }));
      assert.is(readableStack(stack), stack, JSON.stringify(sources));
    }
    writeFileSync(`${root}/dist/startvm.cjs.map`, '{ not json');
    assert.is(readableStack(stack), stack);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
