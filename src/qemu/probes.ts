// What the QEMU command depends on outside the profile: devices and files. Injectable for tests.
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type DeviceCheck = { usable: true } | { usable: false; reason: string };

export interface HostProbes {
  kvm(): DeviceCheck;
  vhostNet(): DeviceCheck;
  /** Absolute path of an executable (a name is looked up in PATH), or undefined. */
  executable(name: string): string | undefined;
  fileExists(path: string): boolean;
}

/** A character device that must open read-write; the reason says whether it is missing or refused. */
export function openReadWrite(path: string): DeviceCheck {
  if (!existsSync(path)) return { usable: false, reason: `${path} does not exist` };
  try {
    closeSync(openSync(path, constants.O_RDWR));
    return { usable: true };
  } catch (error) {
    return { usable: false, reason: `${path} cannot be opened read-write (${(error as NodeJS.ErrnoException).code})` };
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir && isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export const hostProbes: HostProbes = {
  kvm: () => openReadWrite('/dev/kvm'),
  vhostNet: () => openReadWrite('/dev/vhost-net'),
  executable: (name) => findExecutable(name),
  fileExists: (path) => existsSync(path),
};
