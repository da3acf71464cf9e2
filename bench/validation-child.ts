// Section 4's measuring process (a fresh Node, so the first call and the imports are really the
// first): loads src/profile/check.ts, then reads and checks profiles/default.yaml, first once
// (cold), then WARMUP times untimed and ITERATIONS times timed one by one. Prints one JSON line.
// Usage: node bench/validation-child.ts WARMUP ITERATIONS
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [warmup, iterations] = process.argv.slice(2).map(Number) as [number, number];
const file = fileURLToPath(new URL('../profiles/default.yaml', import.meta.url));
const sinceProcessStart = performance.now();

let t = performance.now();
const { checkProfile } = await import('../src/profile/check.ts');
const importCheckMs = performance.now() - t;
t = performance.now();
const { builtinRegistry } = await import('../src/stages/index.ts');
const { catalog } = builtinRegistry();
const importStagesMs = performance.now() - t;

const loadAndCheck = (): boolean => checkProfile(readFileSync(file, 'utf8'), file, { env: {}, catalog }).profile !== undefined;

t = performance.now();
const firstValid = loadAndCheck();
const firstCallMs = performance.now() - t;
for (let i = 0; i < warmup; i++) loadAndCheck();
const samples: number[] = [];
let allValid = firstValid;
for (let i = 0; i < iterations; i++) {
  t = performance.now();
  allValid = loadAndCheck() && allValid;
  samples.push(performance.now() - t);
}
process.stdout.write(`${JSON.stringify({ sinceProcessStart, importCheckMs, importStagesMs, firstCallMs, samples, allValid })}\n`);
