// A start of a profile's built-in stages against a simulated container network, to warm V8's code
// cache at image build (see bin/startvm): the functions a real start runs get compiled once, there,
// instead of on every container start. Nothing on this machine changes: no command runs (a stand-in
// answers `ip`, dnsmasq and arping as a fresh Docker container would), the run directory is a
// temporary one, and the hand-over is caught. Stages from modules are left out: their code is the
// user's, and importing it at build could have effects. Preflights are left out too: they check the
// machine, which at image build is not the container (no /dev/net/tun, no disks yet).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { CommandRunner } from '../engine/command.ts';
import type { Profile } from '../profile/types.ts';
import { withIpSession, type IpLink, type IpRoute } from '../net/ip.ts';
import { IpSession, type LineProcess } from '../net/ip-session.ts';
import { createLogger } from '../engine/logger.ts';
import { runPipeline } from '../engine/pipeline.ts';
import { resolveStages } from '../engine/resolve.ts';
import { savedStateStore } from '../engine/saved-state.ts';
import { builtinRegistry } from '../stages/index.ts';

/** The network a fresh container on Docker's default bridge has: one veth per interface the profile names. */
export function simulatedNetwork(interfaces: Profile['network']['interfaces']): { links: IpLink[]; routes: IpRoute[] } {
  const names = interfaces === 'auto' ? ['eth0'] : interfaces;
  const links: IpLink[] = [
    { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, address: '00:00:00:00:00:00', link_type: 'loopback', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
    ...names.map((ifname, i): IpLink => ({
      ifindex: i + 2,
      ifname,
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      mtu: 1500,
      address: `02:42:ac:${(0x11 + i).toString(16)}:00:02`,
      link_type: 'ether',
      operstate: 'UP',
      linkinfo: { info_kind: 'veth' },
      addr_info: [{ family: 'inet', local: `172.${17 + i}.0.2`, prefixlen: 16, scope: 'global', broadcast: `172.${17 + i}.255.255` }],
    })),
  ];
  const routes: IpRoute[] = names.flatMap((dev, i): IpRoute[] => [
    ...(i === 0 ? [{ dst: 'default', gateway: '172.17.0.1', dev, protocol: 'boot', scope: 'global' }] : []),
    { dst: `172.${17 + i}.0.0/16`, dev, protocol: 'kernel', scope: 'link', prefsrc: `172.${17 + i}.0.2` },
  ]);
  return { links, routes };
}

/** Answers like the programs would: `ip -json` with the simulated network, success for the rest. */
function simulatedRunner(network: { links: IpLink[]; routes: IpRoute[] }): CommandRunner {
  const view = `${JSON.stringify(network.links)}\n${JSON.stringify(network.routes)}`;
  return async (file, args) => ({ stdout: file === 'ip' && args.includes('-json') ? view : '', stderr: '', exitCode: 0 });
}

/** The ip session's process: each `addr show` and `route show` answered with the simulated network. */
export function simulatedIp(network: { links: IpLink[]; routes: IpRoute[] }): LineProcess {
  const lineListeners: ((line: string) => void)[] = [];
  const endListeners: ((exitCode: number | undefined, stderr: string) => void)[] = [];
  const answer = (command: string): string | undefined => (command.startsWith('addr show') ? JSON.stringify(network.links) : command.startsWith('route show') ? JSON.stringify(network.routes) : undefined);
  const later = (f: () => void): void => void setImmediate(f); // as a process answers: not within write()
  return {
    write: (text) =>
      later(() => {
        for (const line of text.split('\n').map(answer)) if (line) for (const listener of lineListeners) listener(line);
      }),
    end: () => later(() => endListeners.forEach((listener) => listener(0, ''))),
    kill: () => later(() => endListeners.forEach((listener) => listener(undefined, ''))),
    onLine: (listener) => void lineListeners.push(listener),
    onEnd: (listener) => void endListeners.push(listener),
  };
}

class HandedOver extends Error {}

/** Runs the simulation; true when it reached the hand-over. Problems are for the caller to report, not to fail on. */
export async function simulateStart(profile: Profile, file: string): Promise<boolean> {
  const runDir = mkdtempSync(`${tmpdir()}/startvm-warmup-`);
  try {
    const registry = builtinRegistry();
    const builtinOnly: Profile = { ...profile, stages: profile.stages.filter((entry) => !entry.module) };
    const stages = await resolveStages(builtinOnly, registry, dirname(resolve(file)));
    const log = createLogger({ format: 'text', color: false, write: () => {} });
    const store = savedStateStore(runDir, log, () => 'simulated');
    let handedOver = false;
    const network = simulatedNetwork(profile.network.interfaces);
    const ip = IpSession.start(simulatedIp(network)); // as runCommand does
    await runPipeline({
      stages,
      profile: builtinOnly,
      profileDir: dirname(resolve(file)),
      runDir,
      env: {},
      log,
      run: withIpSession(simulatedRunner(network), ip),
      state: store.load(),
      persist: store,
      preflight: false,
      signals: [],
      beforeHandOver: () => ip.close(),
      exec: () => {
        handedOver = true;
        throw new HandedOver('simulated hand-over');
      },
    }).catch((error: unknown) => {
      if (!handedOver) throw error;
    });
    return handedOver;
  } finally {
    rmSync(runDir, { recursive: true, force: true });
  }
}
