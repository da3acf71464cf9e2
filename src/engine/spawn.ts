// Child processes for the start path, on Node's process and pipe handles directly (see
// ./node-handles.ts), or through node:child_process where this Node.js lacks them: the same
// behaviour either way, and the tests run both.
import { getSystemErrorName } from 'node:util';
import { loadHandles, type Handles, type StreamHandle } from './node-handles.ts';

export interface ChildOptions {
  /** The child's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** 'pipe' to write to the child (write, end), 'ignore' for /dev/null (default). */
  stdin?: 'pipe' | 'ignore';
}

export interface ChildEnd {
  /** Undefined when the child could not start or was killed by a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** Why it could not start (its code: ENOENT, EACCES, ...). */
  error?: NodeJS.ErrnoException;
}

export interface Child {
  /** Text for its stdin; dropped once stdin is closed or the child is gone (its exit tells why). */
  write(text: string): void;
  /** Closes its stdin. */
  end(): void;
  kill(signal?: NodeJS.Signals): void;
  /** Its stdout and stderr as UTF-8 text, as they come. */
  onStdout(listener: (text: string) => void): void;
  onStderr(listener: (text: string) => void): void;
  /** Once: after it exited and its stdout and stderr ended, or when it could not start. */
  onClose(listener: (end: ChildEnd) => void): void;
  /**
   * Stops reading its output and closes its stdin, so that nothing of it keeps startvm's event loop
   * alive (a process it started may hold the output open): onClose then waits for its exit alone.
   */
  destroy(): void;
}

export type Spawn = (file: string, args: readonly string[], options?: ChildOptions) => Child;

/** Listeners and the close that waits for exit and both outputs: shared by both ways to spawn. */
class ChildEvents {
  readonly stdout: ((text: string) => void)[] = [];
  readonly stderr: ((text: string) => void)[] = [];
  private readonly closeListeners: ((end: ChildEnd) => void)[] = [];
  private end: ChildEnd | undefined;
  private openOutputs = 2;
  private exit: ChildEnd | undefined;

  outputEnded(): void {
    this.openOutputs--;
    this.maybeClose();
  }
  exited(end: ChildEnd): void {
    this.exit ??= end;
    this.maybeClose();
  }
  /** Could not start: no outputs to wait for. */
  failed(error: NodeJS.ErrnoException): void {
    this.openOutputs = 0;
    this.exited({ exitCode: undefined, signal: undefined, error });
  }
  onClose(listener: (end: ChildEnd) => void): void {
    if (this.end) listener(this.end);
    else this.closeListeners.push(listener);
  }
  private maybeClose(): void {
    if (this.end || !this.exit || this.openOutputs > 0) return;
    this.end = this.exit;
    for (const listener of this.closeListeners) listener(this.end);
  }
}

const spawnError = (file: string, errno: number): NodeJS.ErrnoException => {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`spawn ${file} ${code}`), { errno, code, syscall: `spawn ${file}`, path: file });
};

/**
 * The arguments and environment as Process#spawn takes them, converted and checked as
 * node:child_process does: Process#spawn aborts the whole process on a file that is not a string,
 * and cuts strings at a NUL byte.
 */
function checkedSpawnArguments(file: unknown, args: readonly unknown[] | null | undefined, env: NodeJS.ProcessEnv): { argv: string[]; envPairs: string[] } {
  const text = (value: unknown, what: string): string => {
    const string = `${value as string}`;
    if (string.includes('\0')) throw new TypeError(`${what} must be a string without null bytes: ${JSON.stringify(string)}`);
    return string;
  };
  if (typeof file !== 'string') throw new TypeError(`the program to spawn must be a string, not ${typeof file}`);
  if (file.length === 0) throw new TypeError('the program to spawn cannot be empty');
  if (args != null && !Array.isArray(args)) throw new TypeError('the arguments to spawn must be an array');
  const argv = [text(file, 'the program to spawn'), ...(args ?? []).map((arg, i) => text(arg, `argument ${i} of ${file}`))];
  const envPairs: string[] = [];
  // for...in, as node:child_process: variables an env object inherits count too.
  for (const key in env) {
    const value = env[key];
    if (value !== undefined) envPairs.push(`${text(key, 'an environment variable name')}=${text(value, `environment variable ${key}`)}`);
  }
  return { argv, envPairs };
}

/** Reads a pipe to its end, as UTF-8 text (a character split between two reads is kept whole). Returns a stop. */
function readToEnd(h: Handles, pipe: StreamHandle, listeners: ((text: string) => void)[], ended: () => void): () => void {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true }); // a leading BOM is output too, as node:child_process keeps it
  let open = true;
  const finish = (): void => {
    if (!open) return;
    open = false;
    pipe.close();
    const rest = decoder.decode();
    if (rest) for (const listener of listeners) listener(rest);
    ended();
  };
  pipe.onread = (arrayBuffer) => {
    const nread = h.streamBaseState[h.kReadBytesOrError]!;
    if (nread > 0) {
      const text = decoder.decode(new Uint8Array(arrayBuffer!, h.streamBaseState[h.kArrayBufferOffset], nread), { stream: true });
      for (const listener of listeners) listener(text);
    } else if (nread < 0) {
      finish(); // the end (UV_EOF), or a read error: either way nothing more comes
    }
  };
  // Cannot read (the pipe is not open): no output will come, as for an end.
  if (pipe.readStart() !== 0) finish();
  return finish;
}

export const spawnWithHandles: Spawn = (file, args, options = {}) => {
  const h = loadHandles();
  if (!h) throw new Error("this Node.js has no process_wrap/pipe_wrap bindings: use node:child_process");
  const { argv, envPairs } = checkedSpawnArguments(file, args, options.env ?? process.env);
  const events = new ChildEvents();
  const child = new h.Process();
  const stdin = options.stdin === 'pipe' ? new h.Pipe(h.pipeSocket) : undefined;
  const stdout = new h.Pipe(h.pipeSocket);
  const stderr = new h.Pipe(h.pipeSocket);
  let stdinOpen = stdin !== undefined;
  let running = false;
  const stopReading: (() => void)[] = [];
  const closeStdin = (): void => {
    if (!stdinOpen) return;
    stdinOpen = false;
    stdin!.close();
  };
  child.onexit = (exitCode, signal) => {
    running = false;
    child.close();
    closeStdin();
    events.exited(signal ? { exitCode: undefined, signal: signal as NodeJS.Signals } : { exitCode, signal: undefined });
  };
  const errno = child.spawn({
    file,
    args: argv,
    envPairs,
    stdio: [stdin ? { type: 'pipe', handle: stdin } : { type: 'ignore' }, { type: 'pipe', handle: stdout }, { type: 'pipe', handle: stderr }],
    detached: false,
  });
  if (errno !== 0) {
    child.close();
    closeStdin();
    stdout.close();
    stderr.close();
    const error = spawnError(file, errno);
    setImmediate(() => events.failed(error)); // as node:child_process: the error comes after spawn returns
  } else {
    running = true;
    stopReading.push(readToEnd(h, stdout, events.stdout, () => events.outputEnded()), readToEnd(h, stderr, events.stderr, () => events.outputEnded()));
  }
  return {
    write(text) {
      if (!stdinOpen) return;
      const request = new h.WriteWrap();
      request.handle = stdin;
      request.oncomplete = () => {};
      // An error here (EPIPE: the child closed its stdin) is the child's to explain by its exit.
      if (stdin!.writeUtf8String(request, text) !== 0) closeStdin();
    },
    end() {
      if (!stdinOpen) return;
      const request = new h.ShutdownWrap();
      request.handle = stdin;
      request.oncomplete = closeStdin; // after what was written has gone out
      if (stdin!.shutdown(request) !== 0) closeStdin();
    },
    kill(signal = 'SIGTERM') {
      if (running) child.kill(h.signals[signal]!);
    },
    onStdout: (listener) => void events.stdout.push(listener),
    onStderr: (listener) => void events.stderr.push(listener),
    onClose: (listener) => events.onClose(listener),
    destroy() {
      closeStdin();
      for (const stop of stopReading) stop();
    },
  };
};

/** The same through node:child_process, loaded only here. */
export const spawnWithChildProcess: Spawn = (file, args, options = {}) => {
  const events = new ChildEvents();
  const { spawn } = process.getBuiltinModule('node:child_process') as typeof import('node:child_process');
  const child = spawn(file, args, { env: options.env, stdio: [options.stdin === 'pipe' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  // First: a spawn that fails for lack of file descriptors (EMFILE) leaves no streams to listen to.
  child.on('error', (error: NodeJS.ErrnoException) => {
    if (child.pid === undefined) events.failed(error);
  });
  child.stdin?.on('error', () => {}); // EPIPE: the child's exit tells why
  for (const [stream, listeners] of [[child.stdout, events.stdout], [child.stderr, events.stderr]] as const) {
    stream?.setEncoding('utf8').on('data', (text: string) => {
      for (const listener of listeners) listener(text);
    });
  }
  // 'close' rather than 'exit': everything the child wrote has been delivered.
  child.on('close', (code, signal) => {
    if (child.pid === undefined) return;
    events.outputEnded();
    events.outputEnded();
    events.exited(signal ? { exitCode: undefined, signal } : { exitCode: code ?? undefined, signal: undefined });
  });
  return {
    write: (text) => void (child.stdin?.writable && child.stdin.write(text)),
    end: () => void child.stdin?.end(),
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    onStdout: (listener) => void events.stdout.push(listener),
    onStderr: (listener) => void events.stderr.push(listener),
    onClose: (listener) => events.onClose(listener),
    destroy() {
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    },
  };
};

/** Starts a program (an argument list, never a shell line), on Node's handles where it can. */
export const spawnChild: Spawn = (file, args, options) => (loadHandles() ? spawnWithHandles : spawnWithChildProcess)(file, args, options);
