// One startvm per run directory. A second `startvm run` in a running VM container (docker exec)
// would restart the live dnsmasq, wipe its leases and start a second QEMU on the same tap. The
// lock holds startvm's PID, which QEMU keeps after the exec, so it stays held while the VM runs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { removeFile } from './remove-file.ts';
import { UserError } from './errors.ts';
import { isRunning } from './process.ts';

export function acquireRunLock(runDir: string, pid = process.pid): { release(): void } {
  const path = `${runDir}/startvm.pid`;
  let holder: number | undefined;
  try {
    // Asked first: on a first start there is none, and an error thrown costs more.
    if (existsSync(path)) holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    holder = undefined;
  }
  // Our own PID is ours: a restarted container is PID 1 again in a new PID namespace.
  if (holder !== undefined && holder !== pid && isRunning(holder)) {
    throw new UserError(`startvm is already running in ${runDir} (PID ${holder}, the VM once it has started); use another --run-dir for a second VM`);
  }
  removeFile(path);
  writeFileSync(path, `${pid}\n`, { mode: 0o600, flag: 'wx' });
  return { release: () => removeFile(path) };
}
