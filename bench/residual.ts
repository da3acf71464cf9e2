// Section 2, residual cost: what stays in the container besides the VM once it has taken over.
// The stand-in is held alive (BENCH_STANDIN_HOLD=1); every other process in the container's network
// namespace (`ip netns pids`) is measured from /proc/PID/smaps_rollup. Expected: dnsmasq alone, whose
// memory is the floor of any DHCP-serving design; anything else (a leftover node, a helper, a
// zombie) fails the target.
import { readFileSync } from 'node:fs';
import { cleanupAll, commOf, freshContainer, namespacePids } from './container.ts';
import { start, type Variant, type Workspace } from './handover.ts';
import { median } from './stats.ts';

export interface ResidualProcess {
  comm: string;
  /** KiB, from smaps_rollup; NaN when unreadable (a zombie has no memory map). */
  rssKib: number;
  pssKib: number;
  state: string;
}

export interface ResidualResult {
  variant: Variant;
  runs: number;
  /** The VM process: its comm and RSS (the stand-in; shows nothing of Node is left in it). */
  vm: { comm: string; rssKib: number };
  /** Per process name: count per run (median) and median RSS/PSS over the runs. */
  processes: { comm: string; perRun: number; rssKib: number; pssKib: number; state: string }[];
  /** Processes other than dnsmasq: failures of the target. */
  unexpected: string[];
}

function rollup(pid: number): { rssKib: number; pssKib: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssKib: field('Rss'), pssKib: field('Pss') };
  } catch {
    return { rssKib: NaN, pssKib: NaN };
  }
}

function stateOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
  } catch {
    return 'gone';
  }
}

export async function measureResidual(ws: Workspace, variant: Variant, runs: number): Promise<ResidualResult> {
  const seen: ResidualProcess[][] = [];
  const vm: { comm: string; rssKib: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const ctr = await freshContainer();
    try {
      const run = await start(variant, ctr, ws, { BENCH_STANDIN_HOLD: '1' });
      // The hand-over has happened: the VM process exists and everything before it has finished.
      vm.push({ comm: commOf(run.pid), rssKib: rollup(run.pid).rssKib });
      seen.push(namespacePids(ctr).filter((pid) => pid !== run.pid).map((pid) => ({ comm: commOf(pid), state: stateOf(pid), ...rollup(pid) })));
    } finally {
      cleanupAll(); // kills the held stand-in and dnsmasq by PID, removes the namespaces
    }
  }
  const names = [...new Set(seen.flat().map((p) => p.comm))].sort();
  const processes = names.map((comm) => {
    const all = seen.flat().filter((p) => p.comm === comm);
    return {
      comm,
      perRun: median(seen.map((run) => run.filter((p) => p.comm === comm).length)),
      rssKib: median(all.map((p) => p.rssKib)),
      pssKib: median(all.map((p) => p.pssKib)),
      state: [...new Set(all.map((p) => p.state))].join('/'),
    };
  });
  const unexpected = processes.filter((p) => p.comm !== 'dnsmasq' || p.perRun !== 1).map((p) => `${p.comm} ×${p.perRun} (state ${p.state})`);
  if (!names.includes('dnsmasq')) unexpected.push('no dnsmasq at all');
  return { variant, runs, vm: { comm: vm[0]?.comm ?? '?', rssKib: median(vm.map((v) => v.rssKib)) }, processes, unexpected };
}
