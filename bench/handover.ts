// Section 1, time to hand-over: from the spawn of the container's entrypoint to the moment the VM
// process (the stand-in) reads the clock, for startvm's default pipeline with DHCP on and for the
// shell baseline, alternating, each run in a fresh container. A third variant, the floor, execs the
// stand-in directly through the same spawn path (ip netns exec, unshare --uts, sh): the part of
// every number that is neither startvm's nor the script's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ipNs } from '../test/netns/harness.ts';
import { cleanupAll, commOf, freshContainer, launch, namespacePids, type Container, type Launch } from './container.ts';
import { startvmPhases, type Phases } from './phases.ts';
import type { Standin } from './standin.ts';
import { median, summarize, type Summary } from './stats.ts';

// startvm twice: as the image runs it (with the code cache its build trains, `startvm lint --cache`),
// and untrained (installed without that step: Node's compile cache only).
export const VARIANTS = ['startvm', 'startvm-untrained', 'shell', 'floor'] as const;
export type Variant = (typeof VARIANTS)[number];

const here = fileURLToPath(new URL('.', import.meta.url));
export const BASELINE = `${here}baseline.sh`;
export const NODE = realpathSync(process.execPath);

export interface Workspace {
  dir: string;
  standin: Standin;
  /** The startvm entry point to run (bin/startvm unless --startvm names another build). */
  startvm: string;
  /** Node's options before the entry point: the Dockerfile ENTRYPOINT's (bench/entrypoint.ts). */
  nodeOptions: readonly string[];
  kernel: string;
  initrd: string;
  profile: string;
  /** Node's compile cache and startvm's trained code cache, private to the benchmark (see warmLikeAnImage). */
  caches: { compile: string; code: string };
}

/** The environment every startvm run of the benchmark gets: the benchmark's own caches. */
export const cacheEnv = (ws: Workspace): Record<string, string> => ({ NODE_COMPILE_CACHE: ws.caches.compile, STARTVM_CODE_CACHE: ws.caches.code });

/** What the Dockerfile does once at image build (its `startvm lint --cache` RUN line): trains the code cache (see bin/startvm). */
export function warmLikeAnImage(ws: Workspace): void {
  execFileSync(NODE, [ws.startvm, 'lint', '--cache', ws.profile], { env: { ...process.env, ...cacheEnv(ws) }, stdio: 'ignore' });
  if (!existsSync(ws.caches.code)) throw new Error(`startvm lint --cache did not write the code cache ${ws.caches.code}`);
}

/** The bench profile: profiles/test-guest.yaml with the stand-in as QEMU and small temp files to boot. */
export function writeBenchProfile(ws: Omit<Workspace, 'profile'>): string {
  const profile = `${ws.dir}/bench-profile.yaml`;
  writeFileSync(ws.kernel, 'not a kernel: the stand-in never reads it\n');
  writeFileSync(ws.initrd, 'not an initrd\n');
  writeFileSync(
    profile,
    `# Written by bench/run.ts: profiles/test-guest.yaml with a stand-in for QEMU.
version: 1
vm:
  cpus: 1
  memory: 256
  accel: tcg
  machine: pc
  qemu: ${ws.standin.path}
  kernel: ${ws.kernel}
  initrd: ${ws.initrd}
  append: console=ttyS0 panic=-1 quiet
  display: none
stages: [capture, bridge, readdress, dhcp, exec-kvm]
`,
  );
  return profile;
}

let runCounter = 0;

/** Starts one variant in the container; resolves at the hand-over, with the run directory it was given. */
export async function start(variant: Variant, ctr: Container, ws: Workspace, extraEnv: Record<string, string> = {}): Promise<Launch & { runDir: string }> {
  const runDir = `${ws.dir}/run-${variant}-${runCounter++}`;
  mkdirSync(runDir, { recursive: true });
  return { ...(await launchVariant(variant, ctr, ws, runDir, extraEnv)), runDir };
}

function launchVariant(variant: Variant, ctr: Container, ws: Workspace, runDir: string, extraEnv: Record<string, string>): Promise<Launch> {
  switch (variant) {
    case 'startvm':
    case 'startvm-untrained': {
      const caches = { ...cacheEnv(ws), ...(variant === 'startvm-untrained' ? { STARTVM_CODE_CACHE: `${ws.caches.code}.none` } : {}) };
      return launch(ctr, NODE, [...ws.nodeOptions, ws.startvm, 'run', '--profile', ws.profile, '--run-dir', runDir, '--log-format', 'json'], { ...caches, ...extraEnv }, ws.standin.clock);
    }
    case 'shell':
      return launch(ctr, BASELINE, [], { QEMU: ws.standin.path, RUN_DIR: runDir, KERNEL: ws.kernel, INITRD: ws.initrd, ...extraEnv }, ws.standin.clock);
    case 'floor':
      return launch(ctr, ws.standin.path, [], extraEnv, ws.standin.clock);
  }
}

/**
 * The dnsmasq config a network variant wrote, as dnsmasq reads it: no comments or blank lines, the
 * run directory written as $RUN_DIR. The benchmark asks for the same config on both sides.
 */
export function dnsmasqConfigOf(runDir: string): string {
  const text = readFileSync(`${runDir}/dnsmasq/dnsmasq.conf`, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'))
    .map((line) => line.replaceAll(runDir, '$RUN_DIR'))
    .join('\n');
}

/**
 * What both network variants must have left at the hand-over: br0 up with eth0 and tap0 on it, the
 * container's address gone from eth0, a dnsmasq running. Checked after every run, so a variant
 * that skipped work cannot look fast.
 */
export async function checkHandedOver(variant: Variant, ctr: Container, run: Launch): Promise<string[]> {
  const problems: string[] = [];
  if (run.standinPid !== run.pid) problems.push(`the stand-in has PID ${run.standinPid}, the spawned process ${run.pid}: not exec'd in place`);
  if (variant === 'floor') return problems;
  const links = JSON.parse(await ipNs(ctr, ['-json', 'addr', 'show'])) as { ifname: string; master?: string; flags: string[]; addr_info?: { family: string; local: string }[] }[];
  const link = (name: string) => links.find((l) => l.ifname === name);
  if (!link('br0')?.flags.includes('UP')) problems.push('br0 missing or down');
  for (const port of ['eth0', 'tap0']) if (link(port)?.master !== 'br0') problems.push(`${port} is not on br0`);
  if (link('eth0')?.addr_info?.some((a) => a.family === 'inet')) problems.push('eth0 still has an IPv4 address');
  if (!link('br0')?.addr_info?.some((a) => a.family === 'inet')) problems.push('br0 has no IPv4 address');
  if (!namespacePids(ctr).some((pid) => commOf(pid) === 'dnsmasq')) problems.push('no dnsmasq in the container');
  if (variant.startsWith('startvm') && !run.stderr.includes('"event":"done","detail":"handing over to')) problems.push(`startvm did not log the hand-over: ${run.stderr.slice(-400)}`);
  return problems;
}

export interface HandoverResult {
  samples: Record<Variant, number[]>;
  summary: Record<Variant, Summary>;
  /** median(startvm) / median(shell), and for startvm-untrained */
  ratio: number;
  ratioUntrained: number;
  /** The same with the floor taken off both: what startvm and the script themselves cost. */
  ratioNet: number;
  /**
   * startvm / shell of each round (a round runs the four variants once each, one after another),
   * over the rounds: the VM's drift over a run cancels, which the ratio of the medians does not do.
   */
  pairedRatio: Summary;
  ratioUntrainedNet: number;
  phases: Phases;
  phasesUntrained: Phases;
  problems: string[];
}

export async function measureHandover(ws: Workspace, runs: number, warmups: number, progress: (line: string) => void): Promise<HandoverResult> {
  const samples: Record<Variant, number[]> = { startvm: [], 'startvm-untrained': [], shell: [], floor: [] };
  const launches: Record<'startvm' | 'startvm-untrained', { run: Launch; stderr: string }[]> = { startvm: [], 'startvm-untrained': [] };
  warmLikeAnImage(ws);
  const problems: string[] = [];
  const configs: Partial<Record<'startvm' | 'shell', string>> = {};
  for (let i = -warmups; i < runs; i++) {
    // Rotate the order so no variant always runs first (or right after another's cleanup).
    const offset = ((i % VARIANTS.length) + VARIANTS.length) % VARIANTS.length;
    const order = VARIANTS.map((_, k) => VARIANTS[(k + offset) % VARIANTS.length]!);
    const line: string[] = [];
    for (const variant of order) {
      const ctr = await freshContainer();
      try {
        const run = await start(variant, ctr, ws);
        const { exitCode, stderr } = await run.ended;
        const found = await checkHandedOver(variant, ctr, { ...run, stderr });
        if (exitCode !== 0) found.push(`exit code ${exitCode} (the stand-in exits 0)`);
        if ((variant === 'startvm' || variant === 'shell') && i === -warmups) configs[variant] = dnsmasqConfigOf(run.runDir);
        problems.push(...found.map((p) => `${variant} run ${i}: ${p}`));
        if (i >= 0) {
          samples[variant].push(run.ms);
          if (variant === 'startvm' || variant === 'startvm-untrained') launches[variant].push({ run, stderr });
        }
        line.push(`${variant} ${run.ms.toFixed(1)} ms`);
      } finally {
        cleanupAll();
      }
    }
    progress(`${i < 0 ? 'warm-up' : `run ${i + 1}/${runs}`}: ${line.join(', ')}`);
    if (i === -warmups && configs.startvm !== configs.shell) {
      problems.push(`the shell baseline's dnsmasq config differs from startvm's (bench/baseline.sh must write the same):\n--- startvm\n${configs.startvm}\n--- shell\n${configs.shell}`);
    }
  }
  const summary = Object.fromEntries(VARIANTS.map((v) => [v, summarize(samples[v])])) as Record<Variant, Summary>;
  const m = (v: Variant) => median(samples[v]);
  const phasesOf = (runs: { run: Launch; stderr: string }[]) => startvmPhases(runs.map(({ run, stderr }) => ({ spawnedAtWallMs: run.spawnedAtWallMs, totalMs: run.ms, stderr })));
  return {
    samples,
    summary,
    ratio: m('startvm') / m('shell'),
    ratioUntrained: m('startvm-untrained') / m('shell'),
    ratioNet: (m('startvm') - m('floor')) / (m('shell') - m('floor')),
    pairedRatio: summarize(samples.startvm.map((ms, round) => ms / samples.shell[round]!)),
    ratioUntrainedNet: (m('startvm-untrained') - m('floor')) / (m('shell') - m('floor')),
    phases: phasesOf(launches.startvm),
    phasesUntrained: phasesOf(launches['startvm-untrained']),
    problems,
  };
}
