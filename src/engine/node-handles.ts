// Node's process, pipe and terminal handles, without the modules built on them.
//
// startvm sits on every VM start. node:child_process loads streams, net and dgram before its first
// spawn, and node:tty loads net: ~5 ms of a start that spawns two programs (ip and dnsmasq). The
// handles those modules are built on are still handed out by process.binding (process_wrap,
// pipe_wrap, stream_wrap, tty_wrap, and constants for the signal numbers; not among the bindings it
// warns about). Their shape is checked
// before use; a Node.js that lacks them or has changed them gets the public modules instead, and so
// does one asked to warn about pending deprecations (process.binding is one).
// Process#spawn aborts the process on options of the wrong type: ./spawn.ts checks what it passes.

interface Handle {
  close(): void;
}
export interface StreamHandle extends Handle {
  onread: (arrayBuffer: ArrayBuffer | undefined) => void;
  readStart(): number;
  writeUtf8String(request: object, text: string): number;
  shutdown(request: object): number;
}
interface ProcessHandle extends Handle {
  onexit: (exitCode: number, signal: string) => void;
  spawn(options: object): number;
  kill(signal: number): number;
}
export interface Handles {
  Process: new () => ProcessHandle;
  Pipe: new (type: number) => StreamHandle;
  pipeSocket: number;
  WriteWrap: new () => { handle?: StreamHandle; oncomplete?: () => void };
  ShutdownWrap: new () => { handle?: StreamHandle; oncomplete?: () => void };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  /** Signal numbers by name, as node:os's constants.signals (which would load node:os). */
  signals: Record<string, number>;
}

const binding = (name: string): Record<string, unknown> => (process as unknown as { binding(name: string): Record<string, unknown> }).binding(name);

/** --pending-deprecation (or NODE_PENDING_DEPRECATION=1): process.binding would print a warning. */
const warnsOnBinding = (): boolean =>
  process.execArgv.includes('--pending-deprecation') || /(^|\s)--pending-deprecation(\s|$)/.test(process.env.NODE_OPTIONS ?? '') || process.env.NODE_PENDING_DEPRECATION === '1';

const hasMethods = (constructor: unknown, names: string[]): boolean => typeof constructor === 'function' && names.every((name) => typeof (constructor.prototype as Record<string, unknown>)[name] === 'function');

let handles: Handles | null | undefined;

/** Node's handles, or null when this Node.js does not have them in the expected shape. */
export function loadHandles(): Handles | null {
  if (handles !== undefined) return handles;
  if (warnsOnBinding()) return (handles = null);
  try {
    const { Process } = binding('process_wrap');
    const { Pipe, constants: pipeConstants } = binding('pipe_wrap') as { Pipe: unknown; constants?: { SOCKET?: unknown } };
    const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset } = binding('stream_wrap');
    const signals = (binding('constants') as { os?: { signals?: Record<string, number> } }).os?.signals;
    const usable =
      hasMethods(Process, ['spawn', 'kill', 'close']) &&
      hasMethods(Pipe, ['readStart', 'writeUtf8String', 'shutdown', 'close']) &&
      'onread' in (Pipe as { prototype: object }).prototype &&
      typeof WriteWrap === 'function' &&
      typeof ShutdownWrap === 'function' &&
      streamBaseState instanceof Int32Array &&
      typeof pipeConstants?.SOCKET === 'number' &&
      typeof kReadBytesOrError === 'number' &&
      typeof kArrayBufferOffset === 'number' &&
      typeof signals?.SIGTERM === 'number' &&
      typeof signals.SIGKILL === 'number';
    handles = usable ? ({ Process, Pipe, pipeSocket: pipeConstants!.SOCKET, WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kArrayBufferOffset, signals } as Handles) : null;
  } catch {
    handles = null;
  }
  return handles;
}

/** Whether fd is a terminal, as node:tty's isatty answers it (without loading node:tty). */
export function isTerminal(fd: number): boolean {
  if (!warnsOnBinding()) {
    try {
      const { isTTY } = binding('tty_wrap');
      if (typeof isTTY === 'function') return Boolean(isTTY(fd));
    } catch {
      // not there: the public module
    }
  }
  return (process.getBuiltinModule('node:tty') as typeof import('node:tty')).isatty(fd);
}
