// Where startvm's time to hand-over goes, read from its own log (--log-format json): every line has
// a wall-clock time (ms resolution) and stage 'done' lines carry the stage's duration (ms). The
// spawn's wall-clock time and the stand-in's reading close the first and the last phase.
import { median } from './stats.ts';

/** Phase name to its median over the runs, in ms, in pipeline order. */
export type Phases = [name: string, medianMs: number][];

interface LogLine {
  time: string;
  msg: string;
  stage?: string;
  event?: string;
  ms?: number;
}

export const PHASE_NAMES = [
  'start-up: Node, bundle, args, ip session start, profile read + check',
  'resolve stages, run dir, saved state, preflights',
  'capture (the network read sent at start, resolv.conf, hosts)',
  'bridge (one batch to the ip session, then its read)',
  'readdress (one batch to the ip session, then its read)',
  'dhcp (render, dnsmasq start until it serves)',
  'exec-kvm (QEMU argv, file/accel checks, log)',
  'execve to the stand-in running',
] as const;

/** One run's phases in ms; undefined when the log is not what a full hand-over writes. */
function phasesOf(spawnedAtWallMs: number, totalMs: number, stderr: string): number[] | undefined {
  const lines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  const at = (l: LogLine | undefined) => (l ? Date.parse(l.time) : NaN);
  const profile = lines.find((l) => l.msg.startsWith('profile '));
  const event = (stage: string, name: string) => lines.find((l) => l.stage === stage && l.event === name);
  const stageMs = (stage: string) => event(stage, 'done')?.ms ?? NaN;
  const handedOver = event('exec-kvm', 'done');
  const phases = [
    at(profile) - spawnedAtWallMs,
    at(event('capture', 'start')) - at(profile),
    stageMs('capture'),
    stageMs('bridge'),
    stageMs('readdress'),
    stageMs('dhcp'),
    at(handedOver) - at(event('exec-kvm', 'start')),
    totalMs - (at(handedOver) - spawnedAtWallMs),
  ];
  return phases.every(Number.isFinite) ? phases : undefined;
}

/** Median of each phase over the runs whose log is complete. */
export function startvmPhases(runs: readonly { spawnedAtWallMs: number; totalMs: number; stderr: string }[]): Phases {
  const perRun = runs.map((r) => phasesOf(r.spawnedAtWallMs, r.totalMs, r.stderr)).filter((p) => p !== undefined);
  return PHASE_NAMES.map((name, i) => [name, median(perRun.map((p) => p[i]!))]);
}
