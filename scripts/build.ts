// Build step: precompile the profile schema into a standalone validator (so a run never compiles a
// schema) and bundle the CLI into one file (so start-up loads one module instead of hundreds).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { ajvOptions } from '../src/profile/ajv-options.ts';
import { BUNDLE_DIR, BUNDLE_SOURCE } from './build-outputs.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

function buildValidator(): void {
  const schema = JSON.parse(readFileSync(`${root}schemas/profile.schema.json`, 'utf8'));
  const ajv = new Ajv.default({ ...ajvOptions, code: { source: true, esm: false } });
  ajv.addKeyword({ keyword: 'x-env', schemaType: 'array' });
  const validate = ajv.compile(schema);
  const dir = `${root}src/profile/generated`;
  mkdirSync(dir, { recursive: true });
  // CommonJS on purpose: ajv's ESM standalone output still require()s its runtime helpers.
  writeFileSync(`${dir}/profile-validator.cjs`, standaloneCode.default(ajv, validate));
}

async function bundleCli(): Promise<void> {
  rmSync(`${root}${BUNDLE_DIR}`, { recursive: true, force: true });
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({
    entryPoints: { startvm: `${root}${BUNDLE_SOURCE}` },
    outdir: `${root}${BUNDLE_DIR}`,
    outExtension: { '.js': '.mjs' },
    // Commands and optional parts (lint, plan, doctor, ajv for stage modules) are imported
    // dynamically and land in chunks of their own, so `run` parses only what it runs.
    splitting: true,
    // Chunks stay next to the entry: src/paths.ts finds shipped files one level up from any module.
    chunkNames: '[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require(); give them one.
    banner: { js: "import { createRequire as __startvmRequire } from 'node:module'; const require = __startvmRequire(import.meta.url);" },
  });
}

buildValidator();
await bundleCli();
