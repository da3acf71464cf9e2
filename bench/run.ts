// startvm's benchmark (issue: "startvm hands over to QEMU at least as fast as a shell script doing
// the same steps"). Run as root after a build: `npm run bench` (-- --runs N, --quick, --cpu-prof).
// Progress goes to stderr, the report (tables) to stdout.
//
// 1. time to hand-over, startvm vs the shell baseline (bench/baseline.sh), fresh container per run
// 2. residual cost: processes left beside the VM and their memory
// 3. lint throughput over 1,000 generated profiles, and the start-up part
// 4. validation: checkProfile on profiles/default.yaml inside the process
import { BUNDLE_ENTRY } from '../scripts/build-outputs.ts';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cleanupAll, ensureTools, removeStaleNamespaces } from './container.ts';
import { profileStartvm } from './cpu-profile.ts';
import { imageNodeOptions } from './entrypoint.ts';
import { measureHandover, writeBenchProfile, type HandoverResult, type Workspace } from './handover.ts';
import { measureLint, type LintResult } from './lint.ts';
import { parseOptions, USAGE } from './options.ts';
import { measureResidual, type ResidualResult } from './residual.ts';
import { buildStandin } from './standin.ts';
import { kib, ms, spread, type Summary } from './stats.ts';
import { table, verdict, type Row } from './table.ts';
import { measureValidation, type ValidationResult } from './validation.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

let options;
try {
  options = parseOptions(process.argv.slice(2).filter((a) => a !== '--'));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const { runs, quick, only } = options;
const startvm = realpathSync(options.startvm ?? `${root}bin/startvm`);

const needsNamespaces = only.has('handover') || only.has('residual') || options.cpuProf;
if (needsNamespaces && process.getuid?.() !== 0) {
  process.stderr.write('bench: the hand-over and residual sections create network namespaces: run as root (or --only lint,validation)\n');
  process.exit(2);
}
if (!existsSync(`${root}${BUNDLE_ENTRY}`) || !existsSync(`${root}src/profile/generated/profile-validator.cjs`)) {
  process.stderr.write('bench: build first: node scripts/build.ts (npm run build)\n');
  process.exit(2);
}

const dir = mkdtempSync(`${tmpdir()}/startvm-bench-`);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const standin = buildStandin(dir);
const base = { dir, standin, startvm, nodeOptions: imageNodeOptions(), kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.img`, caches: { compile: `${dir}/compile-cache`, code: `${dir}/startvm.codecache` } };
const ws: Workspace = { ...base, profile: writeBenchProfile(base) };

const out: string[] = [];
const emit = (text: string): void => void out.push(text);
let failures = 0;

emit(`startvm benchmark: ${quick ? 'QUICK run (smoke test: too few iterations for numbers to mean anything), ' : ''}runs=${runs}, Node ${process.version}, ${new Date().toISOString()}`);
emit(`startvm: node ${[...ws.nodeOptions, startvm].join(' ')} (the Dockerfile's ENTRYPOINT); stand-in: ${standin.how}; clock: CLOCK_${standin.clock.toUpperCase()}\n`);

try {
  if (needsNamespaces) {
    await ensureTools();
    const stale = removeStaleNamespaces();
    if (stale.length) progress(`removed namespaces left by an interrupted harness process: ${stale.join(', ')}`);
  }

  if (only.has('handover')) {
    progress(`1. time to hand-over: ${runs} run(s) per variant in fresh containers${quick ? '' : ', after 1 warm-up each'}`);
    const r: HandoverResult = await measureHandover(ws, runs, quick ? 0 : 1, progress);
    const ok = r.ratio <= 1 && r.problems.length === 0;
    if (!ok) failures++;
    const range = (s: Summary) => `${ms(s.min)}–${ms(s.max)}`;
    const rows: Row[] = [
      ['startvm run, as the image runs it (trained code cache)', ms(r.summary.startvm.median), range(r.summary.startvm), '≤ shell', ''],
      ['startvm run, untrained (no lint --cache at install)', ms(r.summary['startvm-untrained'].median), range(r.summary['startvm-untrained']), '', ''],
      ['shell baseline (bench/baseline.sh)', ms(r.summary.shell.median), range(r.summary.shell), '', ''],
      ['floor: stand-in exec’d directly (same spawn path)', ms(r.summary.floor.median), range(r.summary.floor), '', ''],
      ['ratio startvm / shell (medians)', r.ratio.toFixed(2), '', '≤ 1.00', verdict(ok)],
      ['ratio startvm / shell, paired: median of the rounds\' ratios (quartiles)', r.pairedRatio.median.toFixed(2), `${r.pairedRatio.q1.toFixed(2)}–${r.pairedRatio.q3.toFixed(2)}`, '', ''],
      ['ratio startvm untrained / shell', r.ratioUntrained.toFixed(2), '', '', ''],
      ['ratios with the floor taken off both', `${r.ratioNet.toFixed(2)}, ${r.ratioUntrainedNet.toFixed(2)}`, '', '', ''],
      ...r.phases.map(([name, value]): Row => [`  startvm phase: ${name}`, ms(value), '', '', '']),
      ...r.phasesUntrained.map(([name, value]): Row => [`  untrained phase: ${name}`, ms(value), '', '', '']),
    ];
    const notes = [
      `Spawn (CLOCK_${standin.clock.toUpperCase()} read right before it) to the stand-in's first clock reading; a fresh host+container namespace per run, alternating variants; n=${runs} each.`,
      'Before the runs, what the Dockerfile does at image build: startvm lint --cache on the profile, which trains the code cache (kept private to the benchmark, as is the Node compile cache the untrained variant uses).',
      'startvm phases: medians of each phase from its --log-format json lines (ms resolution); medians need not add up to the total.',
      ...r.problems.map((p) => `PROBLEM: ${p}`),
    ];
    emit(table('1. Time to hand-over', ['measure', 'median', 'min–max', 'target', 'verdict'], rows, notes));
  }

  if (only.has('residual')) {
    const residualRuns = quick ? 1 : 3;
    progress(`2. residual cost: ${residualRuns} held hand-over(s) per variant`);
    const results: ResidualResult[] = [];
    for (const variant of ['startvm', 'shell'] as const) results.push(await measureResidual(ws, variant, residualRuns));
    const rows: Row[] = [];
    for (const r of results) {
      rows.push([r.variant, `VM process: ${r.vm.comm}`, kib(r.vm.rssKib * 1024), '', '(the VM itself, not counted)', '']);
      for (const p of r.processes) rows.push([r.variant, `${p.comm} ×${p.perRun} (state ${p.state})`, kib(p.rssKib * 1024), kib(p.pssKib * 1024), p.comm === 'dnsmasq' ? 'floor: the DHCP server' : 'only dnsmasq', verdict(p.comm === 'dnsmasq' && p.perRun === 1)]);
      if (r.processes.length === 0) rows.push([r.variant, 'nothing beside the VM', '', '', 'only dnsmasq', verdict(false)]);
    }
    const startvmResult = results.find((r) => r.variant === 'startvm')!;
    if (startvmResult.unexpected.length) failures++;
    emit(
      table('2. Residual cost after the hand-over', ['variant', 'process in the container', 'RSS', 'PSS', 'target', 'verdict'], rows, [
        `Every process in the container's network namespace (ip netns pids) except the VM process, /proc/PID/smaps_rollup, median of ${residualRuns} run(s); the stand-in is held alive while measuring.`,
        startvmResult.unexpected.length ? `FAIL (startvm): ${startvmResult.unexpected.join(', ')}` : 'startvm leaves only dnsmasq: its memory is the floor.',
      ]),
    );
  }

  if (only.has('lint')) {
    const count = quick ? 200 : 1000;
    progress(`3. lint throughput: ${count} generated profiles`);
    const r: LintResult = measureLint(startvm, `${dir}/lint`, { count, reps: quick ? 1 : 5, samples: runs });
    if (r.problems.length) failures++;
    const rows: Row[] = [
      [`lint ${r.count} profiles, one invocation`, ms(r.all.median), `${r.perSecond.toFixed(0)} profiles/s`, `${ms(r.all.min)}–${ms(r.all.max)}, n=${r.all.n}`],
      [`lint ${r.count} profiles, batches of ${r.batchSize} (total)`, ms(r.batches.median), `${r.perSecondBatches.toFixed(0)} profiles/s`, `${ms(r.batches.min)}–${ms(r.batches.max)}, n=${r.batches.n}`],
      ['marginal: (all − one profile) / (count − 1)', ms((r.all.median - r.one.median) / (r.count - 1)), `${r.perSecondMarginal.toFixed(0)} profiles/s`, 'throughput without the start-up'],
      ['start-up: lint one profile', ms(r.one.median), '', `${ms(r.one.min)}–${ms(r.one.max)}, n=${r.one.n}`],
      ['start-up: startvm --version', ms(r.version.median), '', `${ms(r.version.min)}–${ms(r.version.max)}, n=${r.version.n}`],
      ['floor: node -e 0 (bare Node start)', ms(r.bareNode.median), '', `${ms(r.bareNode.min)}–${ms(r.bareNode.max)}, n=${r.bareNode.n}`],
    ];
    emit(
      table('3. Lint throughput', ['measure', 'median', 'rate', 'spread'], rows, [
        `${r.valid} valid and ${r.invalid} invalid profiles (the mistakes of test/fixtures/invalid), checked: lint judged every file as generated.`,
        'Whole invocations timed from the parent (spawn to exit). No target is set for lint; the start-up rows are the cost every startvm command pays.',
        ...r.problems.map((p) => `PROBLEM: ${p}`),
      ]),
    );
  }

  if (only.has('validation')) {
    const [warmup, iterations] = quick ? [10, 20] : [200, 2000];
    progress(`4. validation: ${iterations} checks of profiles/default.yaml after ${warmup} warm-up`);
    const r: ValidationResult = measureValidation(warmup, iterations);
    if (!r.allValid) failures++;
    const rows: Row[] = [
      ['import src/profile/check.ts (yaml, validator; from source)', ms(r.importCheckMs), 'once per process'],
      ['import src/stages/index.ts (the stage catalog; from source)', ms(r.importStagesMs), 'once per process'],
      ['first load + check of profiles/default.yaml (cold)', ms(r.firstCallMs), 'what every startvm run pays'],
      [`load + check, warm (median of ${r.warm.n} after ${r.warmup} warm-up)`, ms(r.warm.median), `${r.perSecond.toFixed(0)} checks/s; ${ms(r.warm.min)}–${ms(r.warm.max)}`],
    ];
    emit(
      table('4. Validation (checkProfile in the process)', ['measure', 'time', 'note'], rows, [
        'A fresh Node process (bench/validation-child.ts): imports are from src/ through type stripping, so they cost more than the bundle does; the calls are the same code.',
        r.allValid ? 'profiles/default.yaml was valid in every call.' : 'PROBLEM: profiles/default.yaml was reported invalid.',
      ]),
    );
  }

  if (options.cpuProf) {
    progress('cpu profile: one startvm run (capture..dhcp) under node --cpu-prof');
    const p = await profileStartvm(ws);
    emit(
      table('startvm CPU profile (one run, stages capture..dhcp)', ['where', 'ms', 'share'], p.groups.map(([name, value]): Row => [name, value.toFixed(1), `${((value / p.totalMs) * 100).toFixed(0)}%`]), [
        `${p.totalMs.toFixed(1)} ms profiled (from V8 start of profiling to exit; Node's own boot before it is not included). Profile kept: ${p.file} (open it in Chrome DevTools).`,
      ]),
    );
  }
} finally {
  cleanupAll();
}

process.stdout.write(`${out.join('\n')}\n`);
process.stdout.write(failures ? `${failures} section(s) missed a target or had problems.\n` : 'All targets met.\n');
process.exitCode = failures ? 1 : 0;
