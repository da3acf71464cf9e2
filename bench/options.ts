// Command line of bench/run.ts.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Hand-over runs per variant (and start-up samples); default 20. */
  runs: number;
  /** Few iterations everywhere: a smoke run for the test, not numbers to quote. */
  quick: boolean;
  /** Also profile one startvm run with node --cpu-prof and print where its time goes. */
  cpuProf: boolean;
  /** Which sections to run (default all): handover, residual, lint, validation. */
  only: Set<string>;
  /** The startvm entry point to measure: bin/startvm unless another build is named (e.g. a variant). */
  startvm?: string;
}

export const SECTIONS = ['handover', 'residual', 'lint', 'validation'] as const;

export const USAGE = `usage: node bench/run.ts [--runs N] [--quick] [--cpu-prof] [--only handover,residual,lint,validation]
  --runs N     hand-over runs per variant, start-up samples (default 20; with --quick 2)
  --quick      few iterations everywhere (a smoke run, e.g. for the test): numbers are not meaningful
  --cpu-prof   also run startvm once under node --cpu-prof in a fresh container and show where the time goes
  --only LIST  run only these sections
  --startvm F  measure this startvm entry point (default bin/startvm): e.g. a build of another commit
               (started with the Node options of the Dockerfile's ENTRYPOINT, as bin/startvm is)
Run as root: the hand-over and residual sections use network namespaces.`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { runs: { type: 'string' }, quick: { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, only: { type: 'string' }, startvm: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const runs = values.runs === undefined ? (quick ? 2 : 20) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not "${values.runs}"`);
  const only = new Set(values.only ? values.only.split(',').map((s) => s.trim()) : SECTIONS);
  for (const name of only) if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`unknown section "${name}" (sections: ${SECTIONS.join(', ')})`);
  return { runs, quick, cpuProf: values['cpu-prof'] ?? false, only, startvm: values.startvm };
}
