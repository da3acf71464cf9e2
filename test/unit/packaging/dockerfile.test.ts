// The image cannot be built here (no Docker engine), so this reads the Dockerfile like the builder
// would and holds it to what the repository says: every COPY source exists and reaches the build
// context, the runtime stage gets the built bundle and nothing else, the entrypoint resolves to what
// the build produces, the image installs a Debian package for every program the stages run, and the
// base image has process.execve. Each check is shown to fail on a Dockerfile broken on purpose; the
// last test assembles the runtime stage's files and runs the CLI from them without node_modules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROGRAMS, type ProgramRequirement } from '../../../src/doctor/requirements.ts';
import { execa } from 'execa';
import { root } from '../../helpers/paths.ts';
import { entrypointParts } from '../../../bench/entrypoint.ts';
import { BUNDLE_DIR, BUNDLE_ENTRY, BUNDLE_SOURCE } from '../../../scripts/build-outputs.ts';

// ---------------------------------------------------------------------------------------------
// Parser: the instructions this Dockerfile uses, with continuation lines and comments as Docker
// treats them (a comment line inside a continued instruction is dropped).

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let current: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    current ??= { text: '', line: index + 1 };
    if (/\\\s*$/.test(raw)) {
      current.text += `${raw.replace(/\\\s*$/, '')} `;
      return;
    }
    current.text += raw;
    result.push(split(current));
    current = undefined;
  });
  if (current) result.push(split(current));
  return result;
}

function split({ text, line }: { text: string; line: number }): Instruction {
  const match = /^\s*(\S+)\s*([\s\S]*)$/.exec(text)!;
  return { keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line };
}

/** Leading --name=value flags (COPY --from=build, --chown=..., RUN --mount=...). */
function flags(args: string): { flags: Map<string, string>; rest: string } {
  const found = new Map<string, string>();
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    found.set(m[1]!, m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
  return { flags: found, rest };
}

/** Exec form (a JSON array of strings), or undefined for the shell form. */
function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The script an exec-form ENTRYPOINT runs: the first word after node's own options, or the program itself. */
const entrypointScript = (exec: readonly string[]): string | undefined => entrypointParts(exec).script;

function envPairs(args: string): [string, string][] {
  if (!/^[\w.-]+=/.test(args)) {
    const [name, ...value] = args.split(/\s+/);
    return [[name!, value.join(' ')]];
  }
  return [...args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map((m) => [m[1]!, m[2]!.replace(/^["']|["']$/g, '')]);
}

interface Copy {
  line: number;
  from?: string;
  sources: string[];
  /** Absolute image path; ends with "/" when it names a directory. */
  dest: string;
}

interface Run {
  line: number;
  text: string;
  workdir: string;
}

interface Stage {
  index: number;
  name?: string;
  image: string;
  line: number;
  copies: Copy[];
  runs: Run[];
  env: Map<string, string>;
  volumes: string[];
  entrypoint?: { line: number; exec?: string[] };
  cmd?: { line: number; exec?: string[] };
  stopSignal?: { line: number; value: string };
}

interface Complaint {
  line: number;
  message: string;
}

interface ParsedDockerfile {
  text: string;
  stages: Stage[];
  args: Map<string, string>;
  problems: Complaint[];
}

const SUPPORTED = new Set(['ARG', 'FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'LABEL', 'VOLUME', 'STOPSIGNAL', 'ENTRYPOINT', 'CMD', 'EXPOSE']);

function parseDockerfile(text: string): ParsedDockerfile {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const problems: Complaint[] = [];
  let workdir = '/';
  const substitute = (value: string, line: number): string =>
    value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
      const name = (a ?? b)!;
      const found = args.get(name);
      if (found === undefined) problems.push({ line, message: `FROM uses $${name}, which no ARG before the first FROM gives a default` });
      return found ?? '';
    });
  for (const ins of instructions(text)) {
    const stage = stages[stages.length - 1];
    if (!SUPPORTED.has(ins.keyword)) {
      problems.push({ line: ins.line, message: `${ins.keyword} is not an instruction this image uses${ins.keyword === 'ADD' ? ' (use COPY)' : ''}; teach the checker before using it` });
      continue;
    }
    if (ins.keyword === 'ARG') {
      const [name, value] = ins.args.split('=');
      if (!stage) args.set(name!, value ?? '');
      continue;
    }
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) {
        problems.push({ line: ins.line, message: `FROM ${ins.args}: expected "FROM image [AS name]"` });
        continue;
      }
      workdir = '/';
      stages.push({ index: stages.length, name: m[2], image: substitute(m[1]!, ins.line), line: ins.line, copies: [], runs: [], env: new Map(), volumes: [] });
      continue;
    }
    if (!stage) {
      problems.push({ line: ins.line, message: `${ins.keyword} before the first FROM` });
      continue;
    }
    switch (ins.keyword) {
      case 'WORKDIR':
        workdir = posix.resolve(workdir, ins.args);
        break;
      case 'COPY': {
        const { flags: f, rest } = flags(ins.args);
        const words = execForm(rest) ?? rest.split(/\s+/);
        if (words.length < 2) {
          problems.push({ line: ins.line, message: `COPY ${ins.args}: needs a source and a destination` });
          break;
        }
        const destWord = words[words.length - 1]!;
        const absolute = posix.resolve(workdir, destWord);
        const isDir = destWord.endsWith('/') || words.length > 2;
        stage.copies.push({ line: ins.line, from: f.get('from'), sources: words.slice(0, -1), dest: isDir ? `${absolute.replace(/\/$/, '')}/` : absolute });
        break;
      }
      case 'RUN':
        stage.runs.push({ line: ins.line, text: execForm(ins.args)?.join(' ') ?? flags(ins.args).rest, workdir });
        break;
      case 'ENV':
        for (const [name, value] of envPairs(ins.args)) stage.env.set(name, value);
        break;
      case 'VOLUME':
        stage.volumes.push(...(execForm(ins.args) ?? ins.args.split(/\s+/)));
        break;
      case 'STOPSIGNAL':
        stage.stopSignal = { line: ins.line, value: ins.args };
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = { line: ins.line, exec: execForm(ins.args) };
        break;
      case 'CMD':
        stage.cmd = { line: ins.line, exec: execForm(ins.args) };
        break;
    }
  }
  return { text, stages, args, problems };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore, as Docker matches it: the last matching pattern wins, "!" re-includes, a pattern
// matching a directory excludes everything below it, * and ? stop at "/", ** crosses folders.

function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const body = posix.normalize((negate ? l.slice(1) : l).trim().replace(/^\/+/, '')).replace(/\/+$/, '');
      let source = '';
      for (let i = 0; i < body.length; i++) {
        const c = body[i]!;
        if (body.startsWith('**/', i)) {
          source += '(?:.*/)?';
          i += 2;
        } else if (body.startsWith('**', i)) {
          source += '.*';
          i += 1;
        } else if (c === '*') source += '[^/]*';
        else if (c === '?') source += '[^/]';
        else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, regex: new RegExp(`^${source}(?:/.*)?$`) };
    });
  return (path) => patterns.reduce((excluded, p) => (p.regex.test(path) ? !p.negate : excluded), false);
}

// ---------------------------------------------------------------------------------------------
// What the repository says the image must do.

interface Facts {
  kind(path: string): 'file' | 'dir' | undefined;
  read(path: string): string;
  dockerignore: string;
  programs: readonly ProgramRequirement[];
  pkg: { bin: Record<string, string>; files: string[]; devDependencies: Record<string, string>; scripts: Record<string, string> };
  /** What `npm run build` writes, relative to the folder it runs in (from scripts/build.ts). */
  buildOutputs: string[];
  /** What the build reads, relative to the same folder. */
  buildInputs: string[];
  /** Signals startvm rolls back on before the hand-over (src/engine/pipeline.ts). */
  stopSignals: string[];
  /** Environment variables that override the profile (schema x-env with a target). */
  overrideEnv: string[];
  profileMount: string;
  defaultDisks: string[];
}

function one(regex: RegExp, text: string, what: string): string {
  const m = regex.exec(text);
  if (!m) throw new Error(`cannot find ${what}`);
  return m[1]!;
}

function repoFacts(): Facts {
  const read = (path: string): string => readFileSync(`${root}${path}`, 'utf8');
  const pkg = JSON.parse(read('package.json')) as Omit<Facts['pkg'], 'bin'> & { name: string; bin: string | Record<string, string> };
  const buildScript = one(/^node\s+(\S+)$/, pkg.scripts.build ?? '', 'the build script in package.json scripts.build');
  const build = read(buildScript);
  const buildImports = [...build.matchAll(/^import[^'"]*['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => posix.join(posix.dirname(buildScript), m[1]!));
  const schema = JSON.parse(read('schemas/profile.schema.json')) as { 'x-env': { name: string; target?: string }[] };
  const defaultProfile = parseYaml(read('profiles/default.yaml')) as { vm?: { disks?: { path: string }[] } };
  return {
    kind(path) {
      try {
        return statSync(`${root}${path}`).isDirectory() ? 'dir' : 'file';
      } catch {
        return undefined;
      }
    },
    read,
    dockerignore: read('.dockerignore'),
    programs: PROGRAMS,
    pkg: { ...pkg, bin: typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin },
    buildOutputs: [`${BUNDLE_DIR}/`],
    buildInputs: [
      buildScript,
      ...buildImports,
      BUNDLE_SOURCE,
      ...[...build.matchAll(/readFileSync\(`\$\{root\}([^`]+)`/g)].map((m) => m[1]!),
    ],
    stopSignals: JSON.parse(one(/signals = (\[[^\]]*\])/, read('src/engine/pipeline.ts'), 'the default signals in src/engine/pipeline.ts').replace(/'/g, '"')) as string[],
    overrideEnv: schema['x-env'].filter((e) => e.target !== undefined).map((e) => e.name),
    profileMount: one(/MOUNTED_PROFILE = '([^']+)'/, read('src/profile/find.ts'), 'MOUNTED_PROFILE in src/profile/find.ts'),
    defaultDisks: (defaultProfile.vm?.disks ?? []).map((d) => d.path),
  };
}

// ---------------------------------------------------------------------------------------------
// The image's file system, resolved back to where each path comes from.

type Origin = { kind: 'repo' | 'built'; path: string; dir: boolean };

class Image {
  readonly file: ParsedDockerfile;
  readonly facts: Facts;
  readonly excluded: (path: string) => boolean;
  constructor(file: ParsedDockerfile, facts: Facts) {
    this.file = file;
    this.facts = facts;
    this.excluded = dockerignore(facts.dockerignore);
  }

  stage(ref: string): Stage | undefined {
    return this.file.stages.find((s) => s.name === ref) ?? (/^\d+$/.test(ref) ? this.file.stages[Number(ref)] : undefined);
  }

  repo(path: string): Origin | undefined {
    const clean = posix.normalize(path).replace(/^\.\/?|\/$/g, '');
    if (clean.startsWith('..') || this.excluded(clean)) return undefined;
    const kind = clean === '' ? 'dir' : this.facts.kind(clean);
    return kind ? { kind: 'repo', path: clean, dir: kind === 'dir' } : undefined;
  }

  /** What a RUN leaves behind, relative to its working directory; folders end with "/". */
  produced(run: Run): string[] {
    const outputs: string[] = [];
    if (/\bnpm\s+(ci|install|i)\b/.test(run.text)) outputs.push('node_modules/', ...(this.facts.pkg.scripts.prepare ? this.facts.buildOutputs : []));
    if (/\bnpm\s+run(?:-script)?\s+build\b/.test(run.text)) outputs.push(...this.facts.buildOutputs);
    return outputs;
  }

  /** Where a path in a stage's file system comes from (the last writer wins), or undefined. */
  resolve(stage: Stage, path: string, depth = 0): Origin | undefined {
    if (depth > 8) return undefined;
    for (const copy of [...stage.copies].reverse()) {
      for (const source of copy.sources) {
        const origin = this.source(copy, source, depth);
        if (!origin) continue;
        const target = copy.dest.endsWith('/') ? (origin.dir ? copy.dest.slice(0, -1) : `${copy.dest}${posix.basename(source)}`) : copy.dest;
        if (path !== target && !path.startsWith(`${target}/`)) continue;
        const rest = path.slice(target.length).replace(/^\//, '');
        if (rest === '') return origin;
        if (!origin.dir) continue;
        const found = copy.from === undefined ? this.repo(posix.join(origin.path, rest)) : this.resolve(this.stage(copy.from)!, posix.join(this.fromPath(source), rest), depth + 1);
        if (found) return found;
      }
    }
    for (const run of [...stage.runs].reverse()) {
      for (const output of this.produced(run)) {
        const full = posix.join(run.workdir, output.replace(/\/$/, ''));
        const builtPath = posix.relative(run.workdir, path);
        if (path === full) return { kind: 'built', path: builtPath, dir: output.endsWith('/') };
        if (path.startsWith(`${full}/`) && output.endsWith('/')) return { kind: 'built', path: builtPath, dir: true };
        if (full.startsWith(`${path}/`)) return { kind: 'built', path: builtPath, dir: true };
      }
    }
    return undefined;
  }

  private fromPath(source: string): string {
    return posix.normalize(source).replace(/(.)\/$/, '$1');
  }

  /** The origin of one COPY source (undefined when it does not exist or is not allowed). */
  source(copy: Copy, source: string, depth = 0): Origin | undefined {
    if (copy.from === undefined) return this.repo(source);
    const from = this.stage(copy.from);
    if (!from || !source.startsWith('/')) return undefined;
    return this.resolve(from, this.fromPath(source), depth + 1);
  }

  /** Whether a folder of a stage holds the built output `output` (e.g. "node_modules/"). */
  contains(stage: Stage, path: string, output: string): boolean {
    return stage.runs.some((run) => this.produced(run).some((o) => o === output && posix.join(run.workdir, o).startsWith(path === '/' ? '/' : `${path}/`)));
  }
}

// ---------------------------------------------------------------------------------------------
// The checks.

const SHELL_SPLIT = /&&|\|\||;|\n/;

function aptInstalls(run: Run): { packages: string[]; noRecommends: boolean }[] {
  return run.text
    .split(SHELL_SPLIT)
    .map((command) => /\bapt(?:-get)?\s+((?:-\S+\s+)*)install\b(.*)$/.exec(command.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const words = `${m[1]} ${m[2]}`.trim().split(/\s+/);
      return { packages: words.filter((w) => w !== '' && !w.startsWith('-')), noRecommends: words.includes('--no-install-recommends') };
    });
}

function nodeVersion(image: string): { major: number; minor?: number; patch?: number } | undefined {
  const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-|$)/.exec(image);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: m[2] === undefined ? undefined : Number(m[2]), patch: m[3] === undefined ? undefined : Number(m[3]) };
}

function checkDockerfile(text: string, facts: Facts): Complaint[] {
  const file = parseDockerfile(text);
  const image = new Image(file, facts);
  const complaints: Complaint[] = [...file.problems];
  const say = (line: number, message: string): void => void complaints.push({ line, message });
  const runtime = file.stages[file.stages.length - 1];
  if (!runtime || file.stages.length < 2) {
    say(1, 'expected a build stage and a runtime stage (multi-stage build)');
    return complaints;
  }
  const build = file.stages.find((s) => s.name === 'build');
  if (!build) say(1, 'no stage named "build" (FROM ... AS build)');

  // Base images: an official Node.js image with process.execve, the same for both stages.
  const wanted = facts.pkg.devDependencies.node;
  for (const stage of file.stages) {
    const version = nodeVersion(stage.image);
    if (!version) {
      say(stage.line, `base image ${stage.image} is not an official Node.js image (node:<version>-...)`);
      continue;
    }
    const { major, minor, patch } = version;
    if (minor === undefined || patch === undefined) say(stage.line, `base image ${stage.image} is not pinned to a Node release: name the full version (${wanted ?? '22.x.y'})`);
    if (major < 22 || (major === 22 && minor !== undefined && minor < 15)) say(stage.line, `base image ${stage.image} has Node ${major}.${minor ?? 'x'}.${patch ?? 'x'}: startvm needs Node 22.15+ for process.execve`);
    if (wanted && minor !== undefined && patch !== undefined && `${major}.${minor}.${patch}` !== wanted) say(stage.line, `base image ${stage.image} runs Node ${major}.${minor}.${patch}, not ${wanted}, the Node the tests run with (package.json devDependencies "node")`);
  }
  if (runtime && build && runtime.image !== build.image) say(runtime.line, `the runtime stage's base (${runtime.image}) differs from the build stage's (${build.image})`);

  // COPY sources.
  for (const stage of file.stages) {
    for (const copy of stage.copies) {
      for (const source of copy.sources) {
        if (copy.from === undefined) {
          if (/[*?[]/.test(source)) say(copy.line, `COPY source "${source}" is a wildcard, which this check does not expand: name the paths`);
          else if (posix.normalize(source).startsWith('..')) say(copy.line, `COPY source "${source}" is outside the build context`);
          else if (image.repo(source) === undefined && facts.kind(posix.normalize(source).replace(/^\.\/?|\/$/g, '')) !== undefined) say(copy.line, `COPY source "${source}" is excluded by .dockerignore`);
          else if (image.repo(source) === undefined) say(copy.line, `COPY source "${source}" is not in the repository`);
          continue;
        }
        const from = image.stage(copy.from);
        if (!from || from.index >= stage.index) say(copy.line, `COPY --from=${copy.from}: unknown stage "${copy.from}" (stages: ${file.stages.filter((s) => s.index < stage.index).map((s) => s.name ?? s.index).join(', ')})`);
        else if (!source.startsWith('/')) say(copy.line, `COPY --from=${copy.from} source "${source}" must be absolute (it is read from the stage's root, not its WORKDIR)`);
        else if (!image.source(copy, source)) say(copy.line, `COPY --from=${copy.from} source "${source}" is neither built nor copied into stage "${copy.from}"`);
      }
    }
  }

  // The build stage: npm ci with its lockfile and the build's inputs in place.
  if (build) {
    const installs = build.runs.filter((r) => /\bnpm\s+ci\b/.test(r.text));
    if (installs.length === 0) say(build.line, 'the build stage never runs npm ci (the lockfile install that also runs "prepare")');
    if (!build.runs.some((r) => /\bnpm\s+run\s+build\b/.test(r.text))) say(build.line, 'the build stage never runs npm run build');
    for (const run of build.runs.filter((r) => /\bnpm\s+(ci|run\s+build)\b/.test(r.text))) {
      const needs = /\bnpm\s+ci\b/.test(run.text) ? ['package.json', 'package-lock.json', ...facts.buildInputs] : ['package.json', ...facts.buildInputs];
      for (const need of needs) {
        const path = posix.join(run.workdir, need);
        const origin = image.resolve({ ...build, runs: [] }, path);
        if (!origin) say(run.line, `${/\bnpm\s+ci\b/.test(run.text) ? 'npm ci' : 'npm run build'} in ${run.workdir} needs "${need}", which the build stage does not copy there`);
      }
    }
  }

  // The entrypoint: node + the package's bin, which imports the bundle the runtime stage copies.
  const entry = runtime.entrypoint;
  const [binName, binPath] = Object.entries(facts.pkg.bin)[0] ?? [];
  let appDir: string | undefined;
  if (!entry) say(runtime.line, 'the runtime stage has no ENTRYPOINT');
  else if (!entry.exec) say(entry.line, 'ENTRYPOINT must use the exec form (["node", ".../bin/startvm"]) so that startvm, then QEMU, is PID 1 and gets the stop signal');
  else {
    const script = entrypointScript(entry.exec);
    if (script === undefined || !script.startsWith('/')) say(entry.line, `ENTRYPOINT ${JSON.stringify(entry.exec)} names no absolute script path`);
    else {
      const origin = image.resolve(runtime, script);
      if (!origin || origin.dir) say(entry.line, `ENTRYPOINT runs "${script}", which the runtime stage does not contain`);
      if (binPath && !script.endsWith(`/${posix.normalize(binPath)}`)) say(entry.line, `ENTRYPOINT runs "${script}", which is not the package's bin "${binName}" (${binPath})`);
      else if (binPath) appDir = script.slice(0, -posix.normalize(binPath).length - 1);
      if (origin?.kind === 'repo' && !origin.dir) {
        // Every relative path the bin names in quotes: what it imports or require()s.
        for (const m of facts.read(origin.path).matchAll(/['"](\.{1,2}\/[^'"]+)['"]/g)) {
          const target = posix.resolve(posix.dirname(script), m[1]!);
          if (!image.resolve(runtime, target)) say(entry.line, `${origin.path} loads "${m[1]}" (${target} in the image), which the runtime stage does not contain`);
        }
      }
      let dir = posix.dirname(script);
      let pkgOrigin: Origin | undefined;
      for (;;) {
        pkgOrigin = image.resolve(runtime, posix.join(dir, 'package.json'));
        if (pkgOrigin || dir === '/') break;
        dir = posix.dirname(dir);
      }
      // Node loads an extensionless bin as the nearest package.json's "type" says (CommonJS without one).
      const type = (pkgOrigin?.kind === 'repo' ? (JSON.parse(facts.read(pkgOrigin.path)) as { type?: string }).type : undefined) ?? 'commonjs';
      const binText = origin?.kind === 'repo' && !origin.dir ? facts.read(origin.path) : '';
      const binType = /^\s*(import|export)\s/m.test(binText) ? 'module' : 'commonjs';
      if (binText && type !== binType) say(entry.line, `${script} is ${binType === 'module' ? 'an ES module' : 'CommonJS'}, but the nearest package.json in the runtime stage gives "type": "${type}": Node would not load the bin`);
    }
  }
  // The trained code cache (bin/startvm): without it every container start compiles startvm's code.
  if (entry?.exec && appDir) {
    const bin = `${appDir}/${posix.normalize(Object.values(facts.pkg.bin)[0] ?? '')}`;
    const training = runtime.runs.findIndex((run) => run.text.includes(`${bin} lint --cache `));
    if (training < 0) say(runtime.line, `the runtime stage never trains the code cache (RUN node ${bin} lint --cache <profile>): every start would compile startvm's code`);
  }
  if (!runtime.cmd) say(runtime.line, 'the runtime stage has no CMD (the default startvm command, ["run"])');
  else if (!runtime.cmd.exec) say(runtime.cmd.line, 'CMD must use the exec form (["run"]): the shell form would run /bin/sh -c as the command');
  else if (runtime.cmd.exec[0] !== 'run') say(runtime.cmd.line, `CMD ${JSON.stringify(runtime.cmd.exec)}: the default command should be ["run"]`);

  // The runtime stage holds the package (package.json "files") and nothing more.
  const allowed = ['package.json', ...facts.pkg.files];
  if (appDir) {
    for (const entryName of allowed) {
      if (!image.resolve(runtime, posix.join(appDir, entryName))) say(runtime.line, `the runtime stage lacks ${posix.join(appDir, entryName)} (package.json "files" lists ${entryName}; src/paths.ts finds shipped files relative to the package root)`);
    }
  }
  for (const copy of runtime.copies) {
    for (const source of copy.sources) {
      const origin = image.source(copy, source);
      if (!origin) continue;
      const from = copy.from === undefined ? undefined : image.stage(copy.from);
      if (origin.path === 'node_modules' || origin.path.startsWith('node_modules/') || (from && origin.dir && image.contains(from, posix.normalize(source).replace(/(.)\/$/, '$1'), 'node_modules/'))) {
        say(copy.line, `the runtime stage copies node_modules (through "${source}"): the bundle already holds every runtime dependency`);
      }
      if (!allowed.some((a) => origin.path === a || origin.path.startsWith(`${a}/`))) say(copy.line, `the runtime stage copies "${source}" (${origin.path || 'the whole folder'}), which is not part of the package (package.json "files")`);
    }
  }
  for (const run of runtime.runs) {
    if (/\b(npm\s+(install|i|ci|add)|yarn|pnpm)\b/.test(run.text)) say(run.line, 'the runtime stage installs npm packages: the bundle carries its dependencies, and dev dependencies have no place in the image');
  }

  // Debian packages: every program the stages run, installed without recommends, lists removed.
  const installed = new Set<string>();
  for (const run of runtime.runs) {
    const installs = aptInstalls(run);
    if (installs.length === 0) continue;
    if (installs.some((i) => !i.noRecommends)) say(run.line, 'apt-get install without --no-install-recommends (pulls in a GUI, UEFI firmware and more for qemu-system-x86)');
    if (!/\brm\s+-(?:rf|fr|r)\s+[^&;|]*\/var\/lib\/apt\/lists/.test(run.text)) say(run.line, 'this RUN installs packages but does not remove /var/lib/apt/lists in the same layer');
    if (!/\bapt(?:-get)?\s+update\b/.test(run.text.split(/\bapt(?:-get)?\s+(?:-\S+\s+)*install\b/)[0]!)) say(run.line, 'this RUN installs packages without apt-get update before it in the same layer (stale or missing lists)');
    for (const i of installs) for (const p of i.packages) installed.add(p);
  }
  for (const program of facts.programs) {
    if (!installed.has(program.debianPackage)) say(runtime.line, `${program.required ? 'required' : 'optional'} program "${program.program}" (${program.usedBy}) needs Debian package ${program.debianPackage}, which the runtime stage does not install`);
  }

  // Run-time settings.
  const volumes = runtime.volumes.map((v) => posix.normalize(v).replace(/(.)\/$/, '$1'));
  if (!volumes.includes('/var/lib/startvm')) say(runtime.line, 'no VOLUME /var/lib/startvm for the disk images');
  for (const disk of facts.defaultDisks) {
    if (!volumes.some((v) => disk.startsWith(`${v}/`))) say(runtime.line, `the default profile's disk ${disk} is not on a VOLUME: it would live in the container's writable layer`);
  }
  if (!runtime.stopSignal) say(runtime.line, `no STOPSIGNAL: state the stop signal on purpose (one startvm rolls back on: ${facts.stopSignals.join(', ')})`);
  else if (!facts.stopSignals.includes(runtime.stopSignal.value.toUpperCase())) say(runtime.stopSignal.line, `STOPSIGNAL ${runtime.stopSignal.value}: startvm rolls back only on ${facts.stopSignals.join(', ')} before the hand-over, and QEMU as PID 1 ignores other signals until the runtime kills it`);
  for (const [name] of runtime.env) {
    if (facts.overrideEnv.includes(name)) say(runtime.line, `ENV ${name} in the image would silently override every mounted profile`);
  }
  if (!text.includes(facts.profileMount)) say(1, `the Dockerfile does not say where the profile is mounted (${facts.profileMount})`);

  // The build context.
  const excluded = dockerignore(facts.dockerignore);
  for (const heavy of ['node_modules', '.cache', 'dist', '.git']) {
    if (!excluded(`${heavy}/x`)) say(0, `.dockerignore does not exclude ${heavy}`);
  }
  return complaints.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------

const facts = repoFacts();
const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
const messages = (text: string, f: Facts = facts): string[] => checkDockerfile(text, f).map((c) => c.message);

/** The Dockerfile with one change; fails if the text to change is gone (the mutation must apply). */
function broken(from: string | RegExp, to: string): string {
  const changed = dockerfile.replace(from, to);
  assert.ok(changed !== dockerfile, `the Dockerfile no longer contains ${String(from)}`);
  return changed;
}

function complains(text: string, expected: RegExp, f: Facts = facts): void {
  const found = messages(text, f);
  assert.ok(
    found.some((m) => expected.test(m)),
    `expected a complaint matching ${expected}, got:\n${found.join('\n') || '(none)'}`,
  );
}

test('the Dockerfile passes every check', () => {
  assert.equal(messages(dockerfile), []);
});

test('the parser reads stages, copies, continued RUN lines and exec forms', () => {
  const parsed = parseDockerfile(dockerfile);
  assert.equal(parsed.stages.map((s) => s.name), ['build', 'runtime']);
  const runtime = parsed.stages[1]!;
  assert.equal(runtime.entrypoint?.exec, ['node', '--no-rehash-snapshot', '/opt/startvm/bin/startvm']);
  assert.is(entrypointScript(['node', '--no-rehash-snapshot', '/opt/startvm/bin/startvm']), '/opt/startvm/bin/startvm');
  assert.is(entrypointScript(['/opt/startvm/bin/startvm']), '/opt/startvm/bin/startvm');
  assert.equal(runtime.cmd?.exec, ['run']);
  assert.equal(runtime.volumes, ['/var/lib/startvm']);
  const apt = runtime.runs.find((r) => r.text.includes('apt-get install'))!;
  assert.equal(aptInstalls(apt).flatMap((i) => i.packages).sort(), ['dnsmasq-base', 'iproute2', 'iputils-arping', 'qemu-system-x86']);
  assert.equal(runtime.copies.find((c) => c.from === 'build')?.dest, '/opt/startvm/dist/');
  assert.equal(envPairs('A=1 B="two words" C=\'x\''), [['A', '1'], ['B', 'two words'], ['C', 'x']]);
});

test('.dockerignore matching follows Docker: parents exclude children, "!" re-includes, ** crosses folders', () => {
  const ignored = dockerignore('node_modules\n/dist/\n**/*.log\nsrc/profile/generated/*.cjs\n!keep.log\n# comment\n');
  assert.ok(ignored('node_modules/ajv/package.json'));
  assert.ok(ignored('dist'));
  assert.ok(ignored('a/b/c.log'));
  assert.ok(!ignored('keep.log'));
  assert.ok(ignored('src/profile/generated/profile-validator.cjs'));
  assert.ok(!ignored('src/profile/generated/profile-validator.d.cts'));
  assert.ok(!ignored('test/node_modules_like'));
});

test('a COPY source missing from the repository is reported', () => {
  complains(broken('COPY templates/ templates/', 'COPY template/ templates/'), /COPY source "template\/" is not in the repository/);
});

test('a COPY source that .dockerignore keeps out of the context is reported', () => {
  complains(dockerfile, /COPY source "templates\/" is excluded by \.dockerignore/, { ...facts, dockerignore: `${facts.dockerignore}\ntemplates\n` });
});

test('a COPY --from=build source the build neither produces nor received is reported', () => {
  complains(broken('/opt/startvm/dist/ dist/', '/opt/startvm/out/ dist/'), /COPY --from=build source "\/opt\/startvm\/out\/" is neither built nor copied into stage "build"/);
});

test('without the build RUN the bundle is not produced and the copy of dist is reported', () => {
  const text = broken('RUN npm ci && npm run build && test -s dist/startvm.cjs', 'RUN echo no build');
  complains(text, /never runs npm ci/);
  complains(text, /never runs npm run build/);
  complains(text, /COPY --from=build source "\/opt\/startvm\/dist\/" is neither built nor copied/);
});

test('a relative or unknown COPY --from source is reported', () => {
  complains(broken('--from=build /opt/startvm/dist/', '--from=build dist/'), /must be absolute/);
  complains(broken('--from=build', '--from=builder'), /unknown stage "builder"/);
});

test('npm ci without its lockfile, or a build without its inputs, is reported', () => {
  complains(broken('COPY package.json package-lock.json ./', 'COPY package.json ./'), /npm ci in \/opt\/startvm needs "package-lock\.json"/);
  complains(broken('COPY src/ src/\n', ''), /needs "src\/cli\/main\.ts"/);
  complains(broken('COPY scripts/build.ts scripts/build-outputs.ts scripts/\n', ''), /needs "scripts\/build\.ts"/);
  complains(broken('COPY scripts/build.ts scripts/build-outputs.ts scripts/\n', 'COPY scripts/build.ts scripts/\n'), /needs "scripts\/build-outputs\.ts"/);
});

test('an ENTRYPOINT path the runtime stage does not contain is reported', () => {
  complains(broken('"/opt/startvm/bin/startvm"]', '"/opt/startvm/bin/start"]'), /ENTRYPOINT runs "\/opt\/startvm\/bin\/start", which the runtime stage does not contain/);
  complains(broken('"/opt/startvm/bin/startvm"]', '"/opt/startvm/bin/start"]'), /not the package's bin "startvm"/);
});

test('the bundle bin/startvm loads must be in the runtime stage', () => {
  complains(broken(/COPY --from=build .*\n/, ''), /bin\/startvm loads "\.\.\/dist\/startvm\.cjs" \(\/opt\/startvm\/dist\/startvm\.cjs in the image\), which the runtime stage does not contain/);
});

test('a bin copied without bin/package.json (which makes it CommonJS) is reported', () => {
  complains(broken('COPY bin/ bin/', 'COPY bin/startvm bin/'), /\/opt\/startvm\/bin\/startvm is CommonJS, but the nearest package\.json in the runtime stage gives "type": "module"/);
});

test('a runtime stage that does not train the code cache is reported', () => {
  complains(broken('startvm lint --cache /opt/startvm/profiles/default.yaml', 'startvm lint /opt/startvm/profiles/default.yaml'), /never trains the code cache \(RUN node \/opt\/startvm\/bin\/startvm lint --cache <profile>\)/);
});

test('shell-form ENTRYPOINT and CMD, a missing CMD and another default command are reported', () => {
  complains(broken('ENTRYPOINT ["node", "--no-rehash-snapshot", "/opt/startvm/bin/startvm"]', 'ENTRYPOINT node --no-rehash-snapshot /opt/startvm/bin/startvm'), /ENTRYPOINT must use the exec form/);
  complains(broken('CMD ["run"]', 'CMD run'), /CMD must use the exec form/);
  complains(broken('CMD ["run"]', ''), /no CMD/);
  complains(broken('CMD ["run"]', 'CMD ["plan"]'), /should be \["run"\]/);
});

test('every program of the stages must come from a Debian package the runtime stage installs', () => {
  complains(broken(/ +iputils-arping \\\n/, ''), /optional program "arping" .* needs Debian package iputils-arping/);
  complains(broken(/ +dnsmasq-base \\\n/, ''), /required program "dnsmasq" .* needs Debian package dnsmasq-base/);
  complains(broken(/ +qemu-system-x86 \\\n/, ''), /required program "qemu-system-x86_64" .* needs Debian package qemu-system-x86/);
  complains(broken(/ +iproute2 \\\n/, ''), /required program "ip" .* needs Debian package iproute2/);
});

test('apt-get install without --no-install-recommends, update or list cleanup in the same RUN is reported', () => {
  complains(broken(' --no-install-recommends', ''), /without --no-install-recommends/);
  complains(broken(/ \\\n && rm -rf \/var\/lib\/apt\/lists\/\*/, '\nRUN rm -rf /var/lib/apt/lists/*'), /does not remove \/var\/lib\/apt\/lists in the same layer/);
  complains(broken('RUN apt-get update \\\n && ', 'RUN '), /without apt-get update before it/);
});

test('a base image without process.execve, unpinned, or not the tested Node is reported', () => {
  complains(broken(/ARG NODE_VERSION=\S+/, 'ARG NODE_VERSION=20.19.0'), /has Node 20\.19\.0: startvm needs Node 22\.15\+/);
  complains(broken(/ARG NODE_VERSION=\S+/, 'ARG NODE_VERSION=22.14.0'), /has Node 22\.14\.0: startvm needs Node 22\.15\+/);
  complains(broken(/ARG NODE_VERSION=\S+/, 'ARG NODE_VERSION=22'), /not pinned to a Node release/);
  complains(broken(/ARG NODE_VERSION=\S+/, 'ARG NODE_VERSION=22.15.0'), /runs Node 22\.15\.0, not \d+\.\d+\.\d+, the Node the tests run with/);
  complains(broken('ARG NODE_VERSION', 'ARG NODE_RELEASE'), /FROM uses \$NODE_VERSION, which no ARG/);
});

test('a runtime stage on another base image is reported', () => {
  const text = broken(/FROM \S+ AS runtime/, 'FROM debian:bookworm-slim AS runtime');
  complains(text, /base image debian:bookworm-slim is not an official Node\.js image/);
  complains(text, /the runtime stage's base \(debian:bookworm-slim\) differs from the build stage's/);
});

test('npm installs and node_modules in the runtime stage are reported', () => {
  complains(broken('COPY package.json ./\n', 'COPY package.json ./\nRUN npm install\n'), /the runtime stage installs npm packages/);
  const whole = broken('--from=build /opt/startvm/dist/ dist/', '--from=build /opt/startvm/ ./');
  complains(whole, /the runtime stage copies node_modules \(through "\/opt\/startvm\/"\)/);
  complains(whole, /copies "\/opt\/startvm\/" \(the whole folder\), which is not part of the package/);
});

test('runtime files outside the package, or a shipped folder missing, are reported', () => {
  complains(broken('COPY bin/ bin/\n', 'COPY bin/ bin/\nCOPY src/ src/\n'), /copies "src\/" \(src\), which is not part of the package/);
  complains(broken('COPY profiles/ profiles/\nCOPY templates/ templates/\n', 'COPY profiles/ profiles/\n'), /the runtime stage lacks \/opt\/startvm\/templates/);
  complains(broken('COPY profiles/ profiles/\n', ''), /the runtime stage lacks \/opt\/startvm\/profiles/);
});

test('a missing disk volume, or a default disk outside every volume, is reported', () => {
  complains(broken('VOLUME ["/var/lib/startvm"]', ''), /no VOLUME \/var\/lib\/startvm/);
  complains(broken('VOLUME ["/var/lib/startvm"]', 'VOLUME ["/data"]'), /default profile's disk \/var\/lib\/startvm\/disk\.qcow2 is not on a VOLUME/);
});

test('a stop signal startvm and QEMU do not act on, or none at all, is reported', () => {
  complains(broken('STOPSIGNAL SIGTERM', 'STOPSIGNAL SIGPWR'), /STOPSIGNAL SIGPWR: startvm rolls back only on SIGTERM, SIGINT/);
  complains(broken('STOPSIGNAL SIGTERM', ''), /no STOPSIGNAL/);
});

test('an ENV that overrides the profile, an undocumented profile mount and unknown instructions are reported', () => {
  complains(broken('WORKDIR /opt/startvm\nCOPY package.json ./', 'WORKDIR /opt/startvm\nENV STARTVM_MEMORY=512\nCOPY package.json ./'), /ENV STARTVM_MEMORY in the image would silently override/);
  complains(dockerfile.replaceAll('/etc/startvm/profile.yaml', '/etc/startvm/vm.yaml'), /does not say where the profile is mounted \(\/etc\/startvm\/profile\.yaml\)/);
  complains(broken('COPY templates/ templates/', 'ADD templates/ templates/'), /ADD is not an instruction this image uses \(use COPY\)/);
});

test('.dockerignore must keep node_modules, .cache, dist and .git out of the context', () => {
  for (const heavy of ['node_modules', '.cache', 'dist', '.git']) {
    const without = facts.dockerignore.split('\n').filter((l) => l.trim() !== heavy).join('\n');
    complains(dockerfile, new RegExp(`\\.dockerignore does not exclude ${heavy.replace('.', '\\.')}$`), { ...facts, dockerignore: without });
  }
});

test("the runtime stage's files run the CLI without node_modules", async () => {
  assert.ok(facts.kind(BUNDLE_ENTRY) === 'file', `${BUNDLE_ENTRY} is missing: run the build first (node scripts/build.ts)`);
  const file = parseDockerfile(dockerfile);
  const img = new Image(file, facts);
  const runtime = file.stages[file.stages.length - 1]!;
  const script = entrypointScript(runtime.entrypoint!.exec!)!;
  const appDir = posix.dirname(posix.dirname(script));
  const dir = mkdtempSync(`${tmpdir()}/startvm-image-`);
  try {
    for (const entry of ['package.json', ...facts.pkg.files]) {
      const origin = img.resolve(runtime, posix.join(appDir, entry));
      assert.ok(origin, `${entry} is not in the runtime stage`);
      // Repo files pass through the build context; built ones come from the local build, which
      // writes them where the image build does (the build stage's WORKDIR is the package root).
      const filter = (src: string): boolean => origin.kind === 'built' || !img.excluded(posix.relative(root, src));
      cpSync(`${root}${origin.path}`, `${dir}${appDir}/${entry}`, { recursive: true, filter });
    }
    const bin = `${dir}${script}`;
    // The copied bin, run by the same Node the image has; no node_modules anywhere above it.
    const run = (args: string[]) => execa(process.execPath, [bin, ...args], { reject: false, cwd: dir, env: { NO_COLOR: '1' }, extendEnv: false });
    const linted = await run(['lint', `${dir}${appDir}/profiles/default.yaml`, `${dir}${appDir}/profiles/external-ipam.yaml`]);
    assert.is(linted.exitCode, 0, linted.stderr + linted.stdout);
    const schema = await run(['schema']);
    assert.is(schema.exitCode, 0, schema.stderr);
    assert.ok((JSON.parse(schema.stdout) as { properties?: object }).properties, 'startvm schema printed no JSON Schema');
    const env = await run(['env']);
    assert.is(env.exitCode, 0, env.stderr);
    assert.match(env.stdout, /STARTVM_MEMORY/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
