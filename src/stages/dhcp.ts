// dhcp: a dedicated dnsmasq that hands the VM the container's address, and nothing to anybody else.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineStage, type Prepared, type StageContext } from '../engine/stage.ts';
import type { CommandResult } from '../engine/command.ts';
import type { DhcpOptions } from '../profile/types.ts';
import { dnsmasqView, type DnsmasqFiles } from '../net/dnsmasq-view.ts';
import { renderDnsmasqConfig } from '../net/dnsmasq-config.ts';
import { readPidFile, stopProcess } from '../engine/process.ts';
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
 * the dynamic linking of its ~20 libraries, most of the ~5 ms it takes to start) and waits for its
 * stdin to end before it reads the config file.
 */
interface EarlyDnsmasq extends Prepared {
  /** Ends its stdin: it reads the config file apply wrote and starts serving. */
  release(): void;
  result: Promise<CommandResult>;
}

/**
 * Starts dnsmasq; with `gate`, it waits for that promise before reading its config file. dnsmasq
 * reads a --conf-file option that follows another one while it reads the command line, and the
 * first one after it: `-`, its stdin, which the gate holds open, comes before the file. Should
 * startvm die first, stdin ends, and dnsmasq finds no config file (prepare removed any) and exits
 * with code 3: it never serves on its defaults or a half-made config.
 */
function startDnsmasq(ctx: StageContext<DhcpOptions>, paths: DnsmasqPaths, gate?: Promise<string>): Promise<CommandResult> {
  const args = [`--conf-file=${paths.confFile}`, ...(gate ? ['--conf-file=-'] : [])];
  return ctx.run(ctx.options.dnsmasq, args, { input: gate, allowFailure: true, signal: ctx.signal });
}

/** Stops a dnsmasq left by an earlier start (re-entry) or by this one (rollback). */
async function stopDnsmasq(paths: DnsmasqPaths): Promise<void> {
  const pid = readPidFile(paths.pidFile);
  if (pid !== undefined) await stopProcess(pid, 'dnsmasq');
}

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
  prepare(ctx): EarlyDnsmasq {
    const paths = pathsIn(ctx.runDir);
    try {
      removeFile(paths.confFile); // an earlier start's: the waiting dnsmasq must not read it
    } catch {
      // not a directory there, say: apply's removeTree deals with it, or says why it cannot
    }
    let release!: () => void;
    let withhold!: (reason: Error) => void;
    const gate = new Promise<string>((resolve, reject) => {
      release = () => resolve('');
      withhold = reject;
    });
    gate.catch(() => {}); // a runner that never reads its input (a stand-in) must not see it as unhandled
    const result = startDnsmasq(ctx, paths, gate);
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
    await stopDnsmasq(paths);
    // A leftover lease would refuse the address to the VM ("leased to <old MAC>"): start clean.
    removeTree(paths.dir);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    const config = renderConfig(ctx, paths);
    writeFileSync(paths.confFile, config);
    // dnsmasq daemonises only once it is serving and reports start-up errors through its exit status.
    const early = ctx.prepared as EarlyDnsmasq | undefined;
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
    return [`write ${paths.confFile}:`, ...renderConfig(ctx, paths).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => `  ${l}`), `start ${ctx.options.dnsmasq} --conf-file=${paths.confFile}`];
  },
});
