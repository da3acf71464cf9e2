// Booting the tiny test guest with startvm inside a harness container, and reading what it reports
// on its serial console (the container's stdout).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { execInContainer, type Container } from '../netns/harness.ts';
import { root } from '../helpers/paths.ts';

export const GUEST_PROFILE = `${root}profiles/test-guest.yaml`;

/** Builds the guest into .cache/guest (cached by kernel version and script hash). */
export async function buildGuest(): Promise<void> {
  await execa('bash', [`${root}scripts/build-test-guest.sh`], { stderr: 'inherit' });
}

/** Tools the end-to-end tests need beyond the harness's. */
export async function ensureE2eTools(): Promise<void> {
  const missing = [];
  for (const [tool, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['nft', 'nftables'], ['curl', 'curl']] as const) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) missing.push(pkg);
  }
  if (missing.length === 0) return;
  process.stderr.write(`e2e: installing ${missing.join(' ')}\n`);
  await execa('apt-get', ['update'], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
  await execa('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}

export type GuestReport = Record<string, string>;

export interface BootedGuest {
  /** startvm's PID, which QEMU keeps after the exec. */
  pid: number;
  stderr(): string;
  stdout(): string;
  /** The guest's STARTVM-GUEST line for an interface. */
  nics: Map<string, GuestReport>;
  runDir: string;
  /** QEMU's exit code, once it exits. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** key=value pairs of a "STARTVM-GUEST iface=eth0 ip=..." line. */
export const parseGuestLine = (line: string): GuestReport =>
  Object.fromEntries(line.trim().split(' ').slice(1).map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));

/** Runs startvm with the guest profile in the container; resolves when the guest says it is ready. */
export async function bootGuest(ctr: Container, env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000, echoStderr?: (text: string) => void): Promise<BootedGuest> {
  const runDir = `${mkdtempSync(`${tmpdir()}/startvm-e2e-`)}/run`;
  const child = execInContainer(ctr, process.execPath, [`${root}bin/startvm`, 'run', '--profile', GUEST_PROFILE, '--run-dir', runDir], {
    reject: false,
    env: { NO_COLOR: '1', ...env },
    stdin: 'ignore',
  });
  let out = '';
  let err = '';
  const nics = new Map<string, GuestReport>();
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the guest was not ready within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split(/\r?\n/)) {
        if (!line.startsWith('STARTVM-GUEST ')) continue;
        const report = parseGuestLine(line);
        if (report.iface) nics.set(report.iface, report);
        if (line.trim() === 'STARTVM-GUEST ready') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      echoStderr?.(chunk.toString());
    });
    void child.then((result) => {
      clearTimeout(timer);
      reject(new Error(`startvm/QEMU exited (${result.exitCode}) before the guest was ready\nstdout:\n${out}\nstderr:\n${err}`));
    });
  });
  await ready;
  return {
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    nics,
    runDir,
    exited: child.then((result) => result.exitCode ?? -1),
    async stop() {
      child.kill('SIGKILL');
      await child;
    },
  };
}
