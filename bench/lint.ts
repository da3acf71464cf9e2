// Section 3, lint throughput: `startvm lint` over 1,000 generated profiles (half invalid) in one
// invocation and in batches of 100, and apart from that the start-up part every invocation pays:
// lint of one profile, `startvm --version`, and a bare `node -e 0` (the floor for any Node CLI).
import { spawnSync } from 'node:child_process';
import { generateProfiles } from './lint-profiles.ts';
import { median, summarize, type Summary } from './stats.ts';
import { NODE } from './handover.ts';

export interface LintResult {
  count: number;
  valid: number;
  invalid: number;
  /** One invocation over all the files: ms per invocation. */
  all: Summary;
  /** Batches of 100, one after the other: total ms for all the files. */
  batches: Summary;
  batchSize: number;
  one: Summary;
  version: Summary;
  bareNode: Summary;
  /** Profiles per second: all / one invocation; marginal excludes the start-up (one profile's time). */
  perSecond: number;
  perSecondBatches: number;
  perSecondMarginal: number;
  problems: string[];
}

function timed(args: readonly string[]): { ms: number; status: number | null; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(NODE, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const repeat = (n: number, f: () => number): number[] => Array.from({ length: n }, f);

export function measureLint(startvm: string, dir: string, opts: { count: number; reps: number; samples: number }): LintResult {
  const { files, valid, invalid } = generateProfiles(dir, opts.count);
  const problems: string[] = [];

  // Untimed check that lint really judged every file as generated (exit 1: problems found).
  const check = timed([startvm, 'lint', '--format', 'json', ...files]);
  if (check.status !== 1) problems.push(`lint over ${files.length} files exited ${check.status}: ${check.stderr.slice(0, 300)}`);
  else {
    const reports = JSON.parse(check.stdout) as { filePath: string; errorCount: number }[];
    const failed = reports.filter((r) => r.errorCount > 0).length;
    if (reports.length !== files.length || failed !== invalid) problems.push(`lint reported ${reports.length} files, ${failed} with errors; generated ${files.length}, ${invalid} invalid`);
  }

  const lintAll = () => timed([startvm, 'lint', ...files]).ms;
  const batchSize = 100;
  const lintBatches = () => {
    let total = 0;
    for (let i = 0; i < files.length; i += batchSize) total += timed([startvm, 'lint', ...files.slice(i, i + batchSize)]).ms;
    return total;
  };
  const validFile = files.find((f) => f.endsWith('-valid.yaml'))!;
  lintAll(); // warm the page cache once
  const all = repeat(opts.reps, lintAll);
  const batches = repeat(opts.reps, lintBatches);
  const one = repeat(opts.samples, () => timed([startvm, 'lint', validFile]).ms);
  const version = repeat(opts.samples, () => timed([startvm, '--version']).ms);
  const bareNode = repeat(opts.samples, () => timed(['-e', '0']).ms);
  const m = { all: median(all), batches: median(batches), one: median(one) };
  return {
    count: files.length,
    valid,
    invalid,
    all: summarize(all),
    batches: summarize(batches),
    batchSize,
    one: summarize(one),
    version: summarize(version),
    bareNode: summarize(bareNode),
    perSecond: (files.length / m.all) * 1000,
    perSecondBatches: (files.length / m.batches) * 1000,
    perSecondMarginal: ((files.length - 1) / (m.all - m.one)) * 1000,
    problems,
  };
}
