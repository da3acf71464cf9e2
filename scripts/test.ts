// Runs every test file with uvu and ends with one line "N passed, N failed" from uvu's own totals
// (uvu prints no failed count, and CI reads only that line). A run that executed no test fails, and
// so does a test file that never calls .run() (uvu would silently skip it).
import { readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const filter = process.argv[2] ?? process.env.TEST_FILTER ?? '';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = testFiles(join(root, 'test')).filter((f) => relative(root, f).includes(filter)).sort();
const withoutRun = files.filter((f) => !/\.run\(\)/.test(readFileSync(f, 'utf8')));
if (withoutRun.length) {
  console.error(`these test files never call .run(), so uvu would skip them: ${withoutRun.map((f) => relative(root, f)).join(', ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// uvu's colours would clutter the log CI keeps; NO_COLOR only works when FORCE_COLOR is unset.
const withoutForceColor = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const { FORCE_COLOR: _ignored, ...rest } = env;
  return rest;
};

// One process per file keeps a crash or a stuck namespace test from hiding the others' results.
let total = 0;
let passed = 0;
let skipped = 0;
let crashed = 0;
for (const file of files) {
  const output = await new Promise<{ text: string; code: number | null }>((resolve) => {
    const child = spawn(process.execPath, [join(root, 'node_modules/uvu/bin.js'), join(root, 'test'), relative(join(root, 'test'), file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...withoutForceColor(process.env), NO_COLOR: '1' } });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ text, code }));
  });
  const count = (label: string): number => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output.text)?.[1] ?? 0);
  const fileTotal = count('Total');
  total += fileTotal;
  passed += count('Passed');
  skipped += count('Skipped');
  if (fileTotal === 0 || (output.code !== 0 && count('Passed') === fileTotal)) {
    crashed++;
    console.error(`${relative(root, file)}: ${fileTotal === 0 ? 'ran no test' : `exited with code ${output.code}`}`);
  }
}
// uvu's Total already leaves skipped tests out.
const failed = total - passed + crashed;
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
