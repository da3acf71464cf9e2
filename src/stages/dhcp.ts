// dhcp: a dedicated dnsmasq that hands the VM the container's address, and nothing to anybody else.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineStage, type Prepared, type StageContext } from '../engine/stage.ts';
import type { CommandResult } from '../engine/command.ts';
import type { DhcpOptions } from '../profile/types.ts';
import { dnsmasqView, type DnsmasqFiles } from '../net/dnsmasq-view.ts';
import { renderDnsmasqConfig } from '../net/dnsmasq-config.ts';
import { parentOf, readPidFile, stopProcess } from '../engine/process.ts';
import { removeFile, removeTree } from '../engine/remove-file.ts';
import { packagePath } from '../paths.ts';
import { findExecutable } from '../qemu/probes.ts';

interface DnsmasqPaths extends DnsmasqFiles {
  dir: string;
  confFile: string;
}

const pathsIn = (runDir: string): DnsmasqPaths => {
  const dir = `${runDir}/dnsmasq`;
  return { dir, confFile: `${dir}/dnsmasq.conf`, leaseFile: `${dir}/leases`, pidFile: `${dir}/dnsmasq.pid`, logFile: `${dir}/dnsmasq.log` };
};

function renderConfig(ctx: StageContext<DhcpOptions>, paths: DnsmasqPaths): string {
  const { captured, nics } = ctx.state;
  if (!captured || !nics) throw new Error('the capture, bridge and readdress stages must run first');
  return renderDnsmasqConfig(readFileSync(templatePath(ctx), 'utf8'), dnsmasqView(captured, nics, ctx.options, paths));
}

/**
 * dnsmasq started by prepare, before the bridge exists: it has done its own start-up (the exec and
 * the dynamic linking of its ~20 libraries, most of the ~5 ms it takes to start) and waits on its
 * stdin before it reads the config file.
 */
interface EarlyDnsmasq extends Prepared {
  /** Sends it the config file (apply has written it) and ends its stdin: it reads the file and starts serving. */
  release(): void;
  result: Promise<CommandResult>;
}

/**
 * Starts dnsmasq; with `gate`, its stdin stays open until that promise gives the text to write.
 * dnsmasq reads a --conf-file that follows another one while it reads its command line, so `-`
 * (stdin) comes before the file named first. The text written is `conf-file=<the file>`: dnsmasq
 * reads the file from there, and skips it afterwards as one it has read; a dnsmasq that kept only
 * the last --conf-file would read it from there too (and, not knowing startvm's options, fail
 * loudly). Should startvm die first, stdin ends empty, and dnsmasq finds no config file (prepare
 * removed any; apply puts it in place whole) and exits with code 3: it never serves on its
 * defaults or a half-made config.
 */
function startDnsmasq(ctx: StageContext<DhcpOptions>, paths: DnsmasqPaths, gate?: Promise<string>): Promise<CommandResult> {
  const args = [`--conf-file=${paths.confFile}`, ...(gate ? ['--conf-file=-'] : [])];
  return ctx.run(ctx.options.dnsmasq, args, { input: gate, allowFailure: true, signal: ctx.signal });
}

/** Stops a dnsmasq left by an earlier start (re-entry) or by this one (rollback). */
async function stopDnsmasq(paths: DnsmasqPaths, unless?: (pid: number) => boolean): Promise<void> {
  const pid = readPidFile(paths.pidFile);
  if (pid !== undefined && !unless?.(pid)) await stopProcess(pid, 'dnsmasq');
}

/**
 * In a new PID namespace an earlier start's pid file can name the PID of the dnsmasq this start
 * began ahead, our child until it daemonises. Only apply asks: by the time of a rollback the early
 * one is gone, and a daemonised dnsmasq is the child of a startvm that is PID 1 (it adopts orphans).
 */
const startedAheadByUs = (pid: number): boolean => parentOf(pid) === process.pid;

const templatePath = (ctx: StageContext<DhcpOptions>): string =>
  ctx.options.template ? resolve(ctx.profileDir, ctx.options.template) : packagePath('templates/dnsmasq.conf.mustache');

export default defineStage<DhcpOptions>({
  name: 'dhcp',
  description: "serve the VM the container's address, routes, DNS and hostname with a dedicated dnsmasq",
  requires: ['capture', 'bridge', 'readdress'],
  async preflight(ctx) {
    if (!findExecutable(ctx.options.dnsmasq)) throw new Error(`dnsmasq binary "${ctx.options.dnsmasq}" not found: install dnsmasq-base, or set NO_DHCP=true when the network runs DHCP itself`);
    try {
      readFileSync(templatePath(ctx), 'utf8');
    } catch (error) {
      throw new Error(`cannot read the dnsmasq template ${templatePath(ctx)} (dhcp.options.template): ${(error as NodeJS.ErrnoException).code}`);
    }
  },
  prepare(ctx): EarlyDnsmasq | Prepared {
    const paths = pathsIn(ctx.runDir);
    try {
      removeFile(paths.confFile); // an earlier start's: the waiting dnsmasq must not read it
    } catch {
      return { dispose: async () => {} }; // not a directory there, say: apply starts dnsmasq, or says why it cannot
    }
    let release!: () => void;
    let withhold!: (reason: Error) => void;
    const gate = new Promise<string>((resolve, reject) => {
      release = () => resolve(`conf-file=${paths.confFile}\n`);
      withhold = reject;
    });
    gate.catch(() => {}); // a runner that never reads its input (a stand-in) must not see it as unhandled
    const result = startDnsmasq(ctx, paths, gate);
    // Awaited by apply or dispose; until then a dnsmasq stopped by an abort must not end the process.
    result.catch(() => {});
    return {
      release,
      result,
      async dispose() {
        withhold(new Error('the run ended before the dhcp stage')); // stops it, unless released
        await result.catch(() => {});
      },
    };
  },
  async apply(ctx) {
    const paths = pathsIn(ctx.runDir);
    await stopDnsmasq(paths, startedAheadByUs);
    // A leftover lease would refuse the address to the VM ("leased to <old MAC>"): start clean.
    removeTree(paths.dir);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    // Whole or not at all (a dnsmasq started ahead reads it as soon as startvm's end closes its stdin).
    writeFileSync(`${paths.confFile}.tmp`, renderConfig(ctx, paths));
    renameSync(`${paths.confFile}.tmp`, paths.confFile);
    // dnsmasq daemonises only once it is serving and reports start-up errors through its exit status.
    const early = ctx.prepared && 'release' in ctx.prepared ? (ctx.prepared as EarlyDnsmasq) : undefined;
    early?.release();
    const result = await (early?.result ?? startDnsmasq(ctx, paths));
    if (result.exitCode !== 0) {
      const reasons: Record<number, string> = { 1: 'configuration', 2: 'network (interface or port)', 3: 'filesystem', 4: 'memory', 5: 'other' };
      throw new Error(`dnsmasq exited with code ${result.exitCode} (${reasons[result.exitCode] ?? 'unknown'} problem): ${result.stderr.trim() || result.stdout.trim()}`);
    }
    const pid = readPidFile(paths.pidFile);
    ctx.log.info(`dnsmasq ${pid ?? '?'} serving ${ctx.state.nics!.map((n) => `${n.vmMac} on ${n.bridge}`).join(', ')}`);
  },
  async rollback(ctx) {
    const paths = pathsIn(ctx.runDir);
    await stopDnsmasq(paths);
    removeTree(paths.dir);
  },
  async plan(ctx) {
    const paths = pathsIn(ctx.runDir);
    if (!ctx.state.nics?.every((n) => n.bridgeAddress)) return [`write ${paths.confFile} and start dnsmasq on the bridges`];
    return [
      `write ${paths.confFile}:`,
      ...renderConfig(ctx, paths).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => `  ${l}`),
      `start ${ctx.options.dnsmasq} --conf-file=${paths.confFile} --conf-file=- (started ahead; it reads the file once startvm names it on stdin)`,
    ];
  },
});
