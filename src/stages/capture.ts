// capture: records the container's network configuration before anything changes.
import { readFileSync } from 'node:fs';
import { defineStage } from '../engine/stage.ts';
import type { CaptureOptions } from '../profile/types.ts';
import type { StageContext } from '../engine/stage.ts';
import type { CapturedNetwork } from '../net/types.ts';
import { knownNetwork } from '../net/ip.ts';
import { selectInterfaces } from '../net/capture.ts';
import { parseResolvConf } from '../net/resolv.ts';

// Synchronous: two small files, and node:fs/promises would be one more module to load on every start.
function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** os.hostname() (the UTS namespace's name), without loading node:os (~0.3 ms) on every start. */
function hostname(): string {
  try {
    return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return process.getBuiltinModule('node:os').hostname(); // no /proc
  }
}

async function capture(ctx: StageContext<CaptureOptions>): Promise<CapturedNetwork> {
  const resolvConf = readOptional(ctx.options.resolvConf);
  const hosts = readOptional(ctx.options.hosts);
  const view = await knownNetwork(ctx.run, ctx.state, ctx.signal);
  const { interfaces, skipped } = selectInterfaces(view, ctx.profile.network.interfaces);
  if (skipped.length) ctx.log.info(`not handing over: ${skipped.join(', ')}`);
  return { interfaces, resolver: parseResolvConf(resolvConf), hostname: hostname(), hosts };
}

export const summary = (captured: CapturedNetwork): string[] => [
  ...captured.interfaces.map(
    (i) =>
      `${i.name}: ${i.ipv4.map((a) => `${a.address}/${a.prefix}`).join(' ')} mac ${i.mac} mtu ${i.mtu}` +
      (i.routes.length ? `; routes ${i.routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`).join(', ')}` : ''),
  ),
  `dns: ${captured.resolver.nameservers.join(' ') || 'none'}${captured.resolver.search.length ? `; search ${captured.resolver.search.join(' ')}` : ''}; hostname ${captured.hostname}`,
];

export default defineStage<CaptureOptions>({
  name: 'capture',
  description: "record the container's addresses, MACs, MTUs, routes, resolvers and hostname",
  async apply(ctx) {
    if (ctx.state.captured) {
      // Re-entry: the addresses may already have moved; what was saved is the original.
      ctx.log.info(`using the configuration captured by the previous start: ${summary(ctx.state.captured).join('; ')}`);
      return;
    }
    ctx.state.captured = await capture(ctx);
    ctx.log.info(`captured ${summary(ctx.state.captured).join('; ')}`);
  },
  async plan(ctx) {
    ctx.state.captured = await capture(ctx);
    return summary(ctx.state.captured).map((line) => `read ${line}`);
  },
});
