// The stand-in VM process: a static C program printing CLOCK_MONOTONIC in ns (bench/standin.c),
// compiled with the machine's cc. Without cc, a shell script printing `date +%s%N` instead: that is
// CLOCK_REALTIME, read after a fork of date, so its numbers are later by about a millisecond and
// must be compared with a realtime clock read at the spawn.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Clock = 'monotonic' | 'realtime';

export interface Standin {
  path: string;
  clock: Clock;
  /** How it was made, for the report. */
  how: string;
}

/** Matches the stand-in's line: "standin <ns> <pid>". */
export const STANDIN_LINE = /^standin (\d+) (\d+)$/m;

const source = fileURLToPath(new URL('standin.c', import.meta.url));

function compile(out: string, extra: string[]): boolean {
  try {
    execFileSync('cc', ['-O2', ...extra, '-o', out, source], { stdio: ['ignore', 'ignore', 'pipe'] });
    return true;
  } catch {
    return false;
  }
}

export function buildStandin(dir: string): Standin {
  const path = `${dir}/qemu-standin`;
  if (compile(path, ['-static'])) return { path, clock: 'monotonic', how: 'bench/standin.c, cc -O2 -static' };
  if (compile(path, [])) return { path, clock: 'monotonic', how: 'bench/standin.c, cc -O2 (dynamic: libc loading adds ~0.3 ms)' };
  writeFileSync(
    path,
    '#!/bin/sh\n# Fallback stand-in (no cc): CLOCK_REALTIME via date, after a fork.\necho "standin $(date +%s%N) $$"\n[ "$BENCH_STANDIN_HOLD" = 1 ] && exec sleep 2147483647\nexit 0\n',
  );
  chmodSync(path, 0o755);
  return { path, clock: 'realtime', how: 'shell + date +%s%N (no cc: CLOCK_REALTIME, ~1 ms late)' };
}

/** The spawn-side clock reading matching the stand-in's clock, in ns. */
export function clockNow(clock: Clock): bigint {
  if (clock === 'monotonic') return process.hrtime.bigint(); // libuv: clock_gettime(CLOCK_MONOTONIC)
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}
