// Runs child processes with an argument list (never a shell string). Failures explain themselves:
// the command, the exit code and stderr are in the message.
import { spawnChild } from './spawn.ts';

export interface CommandResult { stdout: string; stderr: string; exitCode: number }

export interface CommandOptions {
  /**
   * Text for stdin (ip -batch -). A promise starts the command at once and gives it its input when
   * the promise resolves, so the program's own start-up is done by then (dnsmasq, see the dhcp
   * stage); when it rejects, the command is stopped as by an abort, and fails with that reason.
   */
  input?: string | Promise<string>;
  /** Resolve with a non-zero exit code instead of throwing. */
  allowFailure?: boolean;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export type CommandRunner = (file: string, args: readonly string[], options?: CommandOptions) => Promise<CommandResult>;

export class CommandError extends Error {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(command: string, exitCode: number | undefined, stderr: string, cause?: unknown) {
    const why = stderr.trim() || (cause instanceof Error ? cause.message : 'no output');
    super(`${command} failed${exitCode === undefined ? '' : ` with exit code ${exitCode}`}: ${why}`, { cause });
    this.name = 'CommandError';
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** How long an aborted command gets after SIGTERM before SIGKILL, and after SIGKILL for its output to end. */
export const ABORT_GRACE_MS = 2000;
export const ABORT_OUTPUT_WAIT_MS = 500;

/**
 * Node's own process handles rather than execa or node:child_process on this path (see
 * ./spawn.ts): startvm sits on every VM start, and the benchmark measured execa at ~20 ms for the
 * first spawn and node:child_process at ~5 ms more than the handles.
 */
export const commandRunner: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const command = [file, ...args].join(' ');
    const { signal } = options;
    if (signal?.aborted) return reject(new CommandError(command, undefined, '', signal.reason));
    const child = spawnChild(file, args, { env: options.env, stdin: options.input === undefined ? 'ignore' : 'pipe' });
    let stdout = '';
    let stderr = '';
    child.onStdout((text) => void (stdout += text));
    child.onStderr((text) => void (stderr += text));
    // An abort stops the command and waits for it (nothing keeps running behind a rollback): SIGTERM,
    // then SIGKILL for one that ignores it, and after a moment more its output is let go (a process
    // it started may hold it open): then its exit alone settles the promise.
    const timers: NodeJS.Timeout[] = [];
    const abort = (): void => {
      child.kill('SIGTERM');
      timers.push(
        setTimeout(() => {
          child.kill('SIGKILL');
          timers.push(setTimeout(() => child.destroy(), ABORT_OUTPUT_WAIT_MS));
        }, ABORT_GRACE_MS),
      );
    };
    signal?.addEventListener('abort', abort, { once: true });
    const give = (text: string): void => {
      child.write(text);
      child.end();
    };
    let withheld: { reason: unknown } | undefined;
    let closed = false;
    if (typeof options.input === 'string') give(options.input);
    else options.input?.then(give, (reason: unknown) => {
      if (closed) return; // ended on its own first: its exit is the answer
      withheld = { reason };
      abort();
    });
    child.onClose(({ exitCode, signal: killedBy, error }) => {
      closed = true;
      signal?.removeEventListener('abort', abort);
      for (const timer of timers) clearTimeout(timer);
      const result = { stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, ''), exitCode: exitCode ?? 128 };
      if (error) reject(new CommandError(command, undefined, '', error));
      // Stopped because its input was withheld: that is the reason.
      else if (withheld && (killedBy || result.exitCode !== 0)) reject(new CommandError(command, undefined, result.stderr, withheld.reason));
      // Stopped by the abort (killed, or failed on the way out): the abort is the reason.
      else if (signal?.aborted && (killedBy || result.exitCode !== 0)) reject(new CommandError(command, undefined, result.stderr, signal.reason));
      else if (killedBy) reject(new CommandError(command, undefined, result.stderr || `killed by ${killedBy}`));
      else if (result.exitCode !== 0 && !options.allowFailure) reject(new CommandError(command, result.exitCode, result.stderr));
      else resolve(result);
    });
  });
