// Where a startvm run spends its time, by V8's sampling profiler (node --cpu-prof), in a fresh
// container. The profile is written when Node exits, which a hand-over (execve) never does: the
// profiled run stops after dhcp (no exec-kvm stage), which leaves out only building the QEMU argv.
// Samples are grouped by what they are: waiting (idle: child processes running), compiling and
// loading code, garbage collection, and JavaScript by package (through the bundle's source map).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cleanupAll, freshContainer, launch } from './container.ts';
import { cacheEnv, NODE, type Workspace } from './handover.ts';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface CpuBreakdown {
  totalMs: number;
  groups: [name: string, ms: number][];
  file: string;
}

function packageOf(source: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (m) return m[1]!;
  const s = /(src\/[^/]+)\//.exec(source);
  return s ? s[1]! : source.replace(/^.*\//, '');
}

/** Source maps of bundle files, loaded once each. */
function sourceMapFor(url: string, cache: Map<string, SourceMap | undefined>): SourceMap | undefined {
  if (!cache.has(url)) {
    let map: SourceMap | undefined;
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    cache.set(url, map);
  }
  return cache.get(url);
}

export function summarizeProfile(profile: CpuProfile): [string, number][] {
  const maps = new Map<string, SourceMap | undefined>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, number>();
  const add = (k: string, us: number) => groups.set(k, (groups.get(k) ?? 0) + us);
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber, columnNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return add('idle: waiting for child processes (ip, dnsmasq)', us);
    if (functionName === '(garbage collector)') return add('garbage collection', us);
    if (functionName === '(program)') return add('(program): V8/Node native work outside JS (parsing, startup)', us);
    if (/compile|Compile/.test(functionName) && !url.startsWith('file:')) return add('compiling modules (compileSourceTextModule, internal loaders)', us);
    const map = url.startsWith('file:') && /\.[cm]?js$/.test(url) ? sourceMapFor(url, maps) : undefined;
    if (map) {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string };
      return add(`JS: ${entry.originalSource ? packageOf(entry.originalSource) : 'bundle (module top level, unmapped)'}`, us);
    }
    if (url.startsWith('node:') || url === '' || !url.includes('/')) return add('JS: Node internals (child_process, streams, fs, loader)', us);
    return add(`JS: ${packageOf(url)}`, us);
  });
  return [...groups].map(([k, us]): [string, number] => [k, us / 1000]).sort((a, b) => b[1] - a[1]);
}

export async function profileStartvm(ws: Workspace): Promise<CpuBreakdown> {
  const dir = `${ws.dir}/cpu-prof`;
  mkdirSync(dir, { recursive: true });
  const profile = `${ws.dir}/profile-no-exec.yaml`;
  writeFileSync(profile, readFileSync(ws.profile, 'utf8').replace('stages: [capture, bridge, readdress, dhcp, exec-kvm]', 'stages: [capture, bridge, readdress, dhcp]'));
  const ctr = await freshContainer();
  try {
    // No stand-in runs: wait for the process to end instead of a hand-over.
    const args = [...ws.nodeOptions, '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100', ws.startvm, 'run', '--profile', profile, '--run-dir', `${ws.dir}/run-cpu-prof`];
    await launch(ctr, NODE, args, cacheEnv(ws), ws.standin.clock).catch((error: Error) => {
      if (!/ended \(exit 0\) without handing over/.test(error.message)) throw error;
    });
  } finally {
    cleanupAll();
  }
  // Kept outside the workspace (which is removed at exit), for Chrome DevTools or a closer look.
  const file = `${tmpdir()}/startvm-bench-${Date.now()}.cpuprofile`;
  copyFileSync(`${dir}/${readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))}`, file);
  const data = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  return { totalMs: (data.endTime - data.startTime) / 1000, groups: summarizeProfile(data), file };
}
