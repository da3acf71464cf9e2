// A fresh "Docker host + container" per run, made by the test harness (so only namespaces the
// harness creates are ever configured), and the way a process is started in it: through the
// harness's execInContainer, as a container runtime starts an entrypoint. Creating and removing the
// namespaces is never part of a timing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cleanupAll, cleanupStale, createContainer, createHost, ensureTools, execInContainer, type Container } from '../test/netns/harness.ts';
import { clockNow, STANDIN_LINE, type Clock } from './standin.ts';

export { cleanupAll, ensureTools, type Container };

/**
 * Removes namespaces left by harness processes that died (the harness's own cleanupStale: names of
 * its pattern whose creating PID is gone). An interrupted benchmark can leave one: the harness's
 * SIGINT/SIGTERM hook cleans up and exits at once, and a namespace whose `ip netns add` was still
 * running at that moment is not registered yet.
 */
export function removeStaleNamespaces(): string[] {
  return cleanupStale();
}

/** What a container runtime gives an entrypoint: a plain PATH with the sbin directories, no colour. */
export const CONTAINER_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', NO_COLOR: '1' };

/** Docker's default bridge: docker0 172.17.0.1/16 in a host namespace, the container at .2 on a veth. */
export async function freshContainer(): Promise<Container> {
  const host = await createHost();
  return createContainer(host, { address: '172.17.0.2', hostname: 'benchvm', nameservers: ['192.0.2.53', '192.0.2.54'], search: ['example.org'] });
}

export interface Launch {
  /** Spawn to the stand-in's clock reading, in ms. */
  ms: number;
  /** PID of the spawned process: the same PID becomes the VM process (exec all the way). */
  pid: number;
  /** The PID the stand-in printed. */
  standinPid: number;
  stderr: string;
  /** Resolves when the process has ended (the stand-in exits at once unless held). */
  ended: Promise<{ exitCode: number | undefined; stderr: string }>;
  /** Wall clock (ms since the epoch) at the spawn, to place startvm's log lines. */
  spawnedAtWallMs: number;
}

/**
 * Starts FILE ARGS in the container and resolves when the stand-in has printed its clock: the
 * hand-over. The clock is read right before the spawn, nothing between.
 */
export function launch(ctr: Container, file: string, args: readonly string[], env: Record<string, string>, clock: Clock, timeoutMs = 30_000): Promise<Launch> {
  return new Promise((resolve, reject) => {
    const spawnedAtWallMs = performance.timeOrigin + performance.now();
    const t0 = clockNow(clock);
    const child = execInContainer(ctr, file, args, { env: { ...CONTAINER_ENV, ...env }, extendEnv: false, reject: false, buffer: false, stdin: 'ignore' });
    let stdout = '';
    let stderr = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`no hand-over within ${timeoutMs} ms: ${file} ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
    const ended = new Promise<{ exitCode: number | undefined; stderr: string }>((res) => {
      child.then((r) => res({ exitCode: r.exitCode, stderr }), () => res({ exitCode: undefined, stderr }));
    });
    function finish(error?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (error) return reject(error);
      const m = STANDIN_LINE.exec(stdout)!;
      resolve({ ms: Number(BigInt(m[1]!) - t0) / 1e6, pid: child.pid!, standinPid: Number(m[2]), stderr, ended, spawnedAtWallMs });
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (STANDIN_LINE.test(stdout)) finish();
    });
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk));
    void ended.then(({ exitCode }) => {
      // Give stdout's last chunk a moment; a process that ended without the line never handed over.
      setTimeout(() => finish(new Error(`${file} ${args.join(' ')} ended (exit ${exitCode}) without handing over\nstdout: ${stdout}\nstderr: ${stderr}`)), 50);
    });
  });
}

/** PIDs in the container's network namespace (`ip netns pids`: reads only). */
export function namespacePids(ctr: Container): number[] {
  const out = execFileSync('ip', ['netns', 'pids', ctr.ns], { encoding: 'utf8' });
  return out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}
