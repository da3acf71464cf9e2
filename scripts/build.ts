// Build step: precompile the profile schema into a standalone validator (so a run never compiles a
// schema), parse the shipped dnsmasq template (so a run never parses it), and bundle the CLI into
// one file (so start-up loads one module instead of hundreds).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Mustache from 'mustache';
import { fileURLToPath } from 'node:url';
import { createRequire, isBuiltin } from 'node:module';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { ajvOptions } from '../src/profile/ajv-options.ts';
import { createHash } from 'node:crypto';
import { BUNDLE_DIR, BUNDLE_ENTRY, BUNDLE_SOURCE } from './build-outputs.ts';

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

/** The shipped dnsmasq template with its mustache tokens (src/net/dnsmasq-config.ts uses them). */
function parseDnsmasqTemplate(): void {
  const template = readFileSync(`${root}templates/dnsmasq.conf.mustache`, 'utf8');
  const dir = `${root}src/net/generated`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/dnsmasq-template.json`, `${JSON.stringify({ template, tokens: Mustache.parse(template) })}\n`);
}

async function bundleCli(): Promise<void> {
  rmSync(`${root}${BUNDLE_DIR}`, { recursive: true, force: true });
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { metafile } = await esbuild.build({
    entryPoints: { startvm: `${root}${BUNDLE_SOURCE}` },
    outdir: `${root}${BUNDLE_DIR}`,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    // CommonJS, one file: Node loads it with require(), without the ES module loader's per-module
    // jobs and the facades it builds for every node: built-in (the benchmark measured both on the
    // start path). The commands and optional parts (lint, plan, doctor, ajv for stage modules) are
    // imported dynamically in the source; esbuild wraps them in functions that run only when
    // imported, so `run` evaluates only what it runs.
    format: 'cjs',
    // ASCII only (non-ASCII characters escaped): bin/startvm reads the bundle as latin1, which V8
    // takes without decoding UTF-8 (~1 ms less for the 800 KB it was before minifying).
    charset: 'ascii',
    // Minified: half the text to read and to hold as a string on every start (~1.5 ms in an A/B). An
    // internal error's stack is mapped back to the sources through the source map (src/cli/stack.ts).
    minify: true,
    target: 'node22',
    sourcemap: 'linked',
    logLevel: 'warning',
    // src/paths.ts finds shipped files relative to import.meta.dirname, which CommonJS lacks: its
    // __dirname is the same place (import.meta.url is not used: a file URL costs ~0.1 ms to build).
    define: { 'import.meta.dirname': '__dirname' },
    // The bundle brings CommonJS's function wrapper itself and calls it at once: as a module,
    // require() runs it with the usual exports, require, module, __filename and __dirname; bin/startvm
    // compiles the file as it is (no wrapped copy of the whole text to allocate, which cost ~1 ms and a
    // garbage collection on every start) and hands them over in `cjs` on its loader object.
    // "use strict" first in the function: the banner would otherwise push esbuild's directive out of first place.
    banner: { js: "(function (exports, require, module, __filename, __dirname) {\n'use strict';" },
    footer: { js: "})(...(globalThis[Symbol.for('startvm.loader')]?.cjs ?? [exports, require, module, __filename, __dirname]));" },
    metafile: true,
  });
  // bin/startvm hands the bundle its own require(), which resolves from bin/: the same module only
  // for Node's built-in modules, so nothing else may be left outside the bundle.
  const outside = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path));
  if (outside.length) throw new Error(`the bundle requires modules it does not contain: ${[...new Set(outside)].join(', ')}`);
  // The bundle's identity for bin/startvm: a code cache made from another bundle must not be used,
  // and V8 compares only the source's length. Hashed here once, not on every start.
  const bundle = `${root}${BUNDLE_ENTRY}`;
  const bytes = readFileSync(bundle);
  if (bytes.some((byte) => byte > 0x7f)) throw new Error(`${bundle} is not ASCII: bin/startvm would misread it as latin1`);
  writeFileSync(`${bundle}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}\n`);
}

buildValidator();
parseDnsmasqTemplate();
await bundleCli();
