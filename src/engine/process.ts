// Processes started as daemons (dnsmasq): found by pid file, checked by name before a signal is
// sent, so a recycled PID never gets killed by mistake.
import { existsSync, readFileSync } from 'node:fs';

// Not node:timers/promises: one module less to load on every start, for one line.
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined; // asked first: an error thrown costs more
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The parent's PID, from /proc/PID/stat (after the command, which may hold spaces and parentheses); undefined when gone. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Running, not a zombie waiting for PID 1 to reap it (QEMU as PID 1 reaps nobody). */
export function isRunning(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Not our child, so no exit event: poll /proc. */
export async function stopProcess(pid: number, expectedName: string, graceMs = 2000): Promise<boolean> {
  if (processName(pid) !== expectedName) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(20);
      if (!isRunning(pid)) break;
    }
    await sleep(10);
  }
  return true;
}
