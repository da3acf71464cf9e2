// What the QEMU command depends on outside the profile: devices and files. Injectable for tests.
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type DeviceCheck = { usable: true } | { usable: false; reason: string };

export interface HostProbes {
  kvm(): DeviceCheck;
  vhostNet(): DeviceCheck;
  /** Absolute path of an executable (a name is looked up in PATH), or undefined. */
  executable(name: string): string | undefined;
  /** Why exec would fail for this file (see execProblem), or undefined. */
  execProblem(path: string): string | undefined;
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
    // Most PATH entries do not have it: "no such file" without an error thrown, which costs more.
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false; // not searchable, not executable, a file where a directory should be, ...
  }
}

// ELF e_machine values of the architectures Node runs on.
const ELF_MACHINE: Record<string, number> = { x64: 62, arm64: 183, ia32: 3, arm: 40, ppc64: 21, s390x: 22, riscv64: 243 };

/**
 * Why the kernel would refuse to exec this file, or undefined when it looks runnable: an ELF for
 * this machine, or a script whose #! interpreter exists. Node's process.execve aborts the process
 * instead of throwing when the exec fails, which would skip the rollback: so check first.
 */
export function execProblem(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return `cannot read it (${(error as NodeJS.ErrnoException).code})`;
  }
  try {
    const header = readAt(fd, 0, 256);
    if (header.subarray(0, 2).toString() === '#!') {
      const interpreter = header.subarray(2).toString().split('\n')[0]!.trim().split(/\s+/)[0] ?? '';
      return isExecutableFile(interpreter) ? undefined : `its interpreter "${interpreter}" (#! line) is missing or not executable`;
    }
    if (header.length < 52 || header.readUInt32BE(0) !== 0x7f454c46) return 'it is neither an ELF program nor a #! script';
    const is64 = header[4] === 2;
    const little = header[5] === 1;
    const machine = little ? header.readUInt16LE(18) : header.readUInt16BE(18);
    const expected = ELF_MACHINE[process.arch];
    if (header[4] !== (process.arch.endsWith('64') ? 2 : 1) || (expected !== undefined && machine !== expected)) return `it is an ELF program for another machine (this is ${process.arch})`;
    const loader = elfInterpreter(fd, header, is64, little);
    if (loader !== undefined && !existsSync(loader)) return `its dynamic loader ${loader} is missing (a program built for another system?)`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  return buffer.subarray(0, readSync(fd, buffer, 0, length, position));
}

/** The PT_INTERP path of an ELF (its dynamic loader), or undefined for a static program. */
function elfInterpreter(fd: number, header: Buffer, is64: boolean, little: boolean): string | undefined {
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number) => (is64 ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const phoff = word(header, is64 ? 0x20 : 0x1c);
  const phentsize = u16(header, is64 ? 0x36 : 0x2a);
  const phnum = u16(header, is64 ? 0x38 : 0x2c);
  const table = readAt(fd, phoff, phentsize * phnum);
  for (let i = 0; i < phnum && (i + 1) * phentsize <= table.length; i++) {
    const entry = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (u32(entry, 0) !== 3) continue; // PT_INTERP
    const offset = word(entry, is64 ? 0x08 : 0x04);
    const size = word(entry, is64 ? 0x20 : 0x10);
    return readAt(fd, offset, Math.min(size, 4096)).toString().replace(/\0.*$/s, '');
  }
  return undefined;
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
  execProblem,
  fileExists: (path) => existsSync(path),
};
