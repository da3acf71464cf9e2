// One `ip -json -details -batch -` for a whole start: the stages' reads and writes go to the same
// child process, one batch after another, instead of one child process each. The first read (what
// the capture stage needs) goes out as soon as the process starts, so iproute2 starts up and reads
// the network while startvm is still checking the profile; by the time capture runs, the answer is
// waiting. startvm sits on every VM start: each `ip` it does not start saves its fork and exec.
//
// In -batch mode iproute2 runs commands as lines arrive and, with -json, prints each `show` as one
// line of JSON as soon as it is done; write commands print nothing. Every batch here ends with the
// read of the network (two JSON lines), which tells when the batch is over. Without -force, the
// first failing command ends the process: that command's batch fails, and so does every later one.
import { spawnChild, type Child, type Spawn } from '../engine/spawn.ts';
import { CommandError } from '../engine/command.ts';
import { JSON_BATCH, parseView, READ, type NetworkView } from './ip.ts';

/** The child process as the session uses it: lines in and out, and its end. */
export interface LineProcess {
  write(text: string): void;
  /** No more input: ip exits once it has run what it got. */
  end(): void;
  kill(): void;
  onLine(listener: (line: string) => void): void;
  /** Once, when the process is gone (exit code, or undefined when it could not start or was killed), with its stderr. */
  onEnd(listener: (exitCode: number | undefined, stderr: string) => void): void;
}

const READ_LINES = READ.trim().split('\n').length;

/** `program` is for tests: a stand-in that speaks the same protocol. */
export function spawnIp(program = 'ip', spawn: Spawn = spawnChild): LineProcess {
  let stdout = '';
  let stderr = '';
  const lineListeners: ((line: string) => void)[] = [];
  const endListeners: ((exitCode: number | undefined, stderr: string) => void)[] = [];
  let child: Child;
  try {
    child = spawn(program, JSON_BATCH, { stdin: 'pipe' });
  } catch (error) {
    // A program the spawn refuses outright (an empty name, say): a session that has ended, like a failed exec.
    stderr = `${program}: ${(error as Error).message}`;
    return { write() {}, end() {}, kill() {}, onLine() {}, onEnd: (listener) => void setImmediate(() => listener(undefined, stderr)) };
  }
  child.onStdout((text) => {
    stdout += text;
    for (let newline = stdout.indexOf('\n'); newline >= 0; newline = stdout.indexOf('\n')) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      for (const listener of lineListeners) listener(line);
    }
  });
  child.onStderr((text) => void (stderr += text));
  // After the exit and the end of its output: every line printed before the end has been delivered.
  child.onClose(({ exitCode, error }) => {
    if (error) stderr ||= error.message;
    for (const listener of endListeners) listener(exitCode, stderr);
  });
  return {
    write: (text) => child.write(text),
    end: () => child.end(),
    kill: () => child.kill('SIGKILL'),
    onLine: (listener) => void lineListeners.push(listener),
    onEnd: (listener) => void endListeners.push(listener),
  };
}

interface Pending {
  /** The batch's commands, for the error message. */
  commands: readonly string[];
  /** Line number of the batch's first line in the session's input (ip counts from 1). */
  firstLine: number;
  lines: string[];
  resolve(view: NetworkView): void;
  reject(error: Error): void;
}

export class IpSession {
  private readonly pending: Pending[] = [];
  private linesSent = 0;
  private failure: Error | undefined;
  private prefetched: Promise<NetworkView> | undefined;
  private readonly ended: Promise<void>;
  private readonly process: LineProcess;

  private constructor(process: LineProcess) {
    this.process = process;
    process.onLine((line) => {
      if (!line.startsWith('[')) return; // only `show` output counts; anything else is not ours to parse
      const batch = this.pending[0];
      if (!batch) return;
      batch.lines.push(line);
      if (batch.lines.length === READ_LINES) {
        this.pending.shift();
        batch.resolve(parseView(batch.lines));
      }
    });
    this.ended = new Promise((resolve) =>
      process.onEnd((exitCode, stderr) => {
        this.failure ??= this.failureOf(exitCode, stderr);
        for (const batch of this.pending.splice(0)) batch.reject(this.failure);
        resolve();
      }),
    );
  }

  /** Starts the process and, at once, the first read of the network. */
  static start(process: LineProcess = spawnIp()): IpSession {
    const session = new IpSession(process);
    session.prefetched = session.send([]);
    session.prefetched.catch(() => {}); // a failure is reported to whoever asks for the read
    return session;
  }

  /** False once ip has ended (a failed command, a failed start, or close()): batches then need another way. */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Runs the commands, then reads the network as they left it. */
  batch(commands: readonly string[], signal?: AbortSignal): Promise<NetworkView> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error); // and nothing is sent
    // The first read answers the first read asked for, while nothing can have changed since it went
    // out (a write, or forgetFirstRead, drops it).
    const result = commands.length === 0 && this.prefetched ? this.prefetched : this.send(commands);
    this.prefetched = undefined;
    if (!signal) return result;
    // Interrupted: stop ip where it is (the pipeline rolls back from what it reads afresh).
    const onAbort = (): void => this.process.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    return result.finally(() => signal.removeEventListener('abort', onAbort));
  }

  /** No more batches: ip exits once it has answered the ones sent. Later reads and writes spawn an ip each. */
  end(): void {
    if (this.failure) return;
    this.failure = new Error('the ip session has ended');
    this.process.end();
  }

  /** An ip command ran outside the session (a module stage's, say): the first read may no longer be current. */
  forgetFirstRead(): void {
    this.prefetched = undefined;
  }

  /**
   * Ends the process and waits until it is gone: a hand-over must not leave a child behind for the
   * VM process to inherit. An ip that does not exit within `graceMs` of its input ending is killed.
   */
  async close(graceMs = 2000): Promise<void> {
    this.end();
    const timer = setTimeout(() => this.process.kill(), graceMs);
    await this.ended;
    clearTimeout(timer);
  }

  private send(commands: readonly string[]): Promise<NetworkView> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ commands, firstLine: this.linesSent + 1, lines: [], resolve, reject });
      this.linesSent += commands.length + READ_LINES;
      this.process.write(`${commands.map((c) => `${c}\n`).join('')}${READ}`);
    });
  }

  /**
   * ip says "Command failed -:N" for the N-th line of its input: name that command. Some errors
   * (bad arguments) end ip without it: then name the batch that was running.
   */
  private failureOf(exitCode: number | undefined, stderr: string): Error {
    const why = stderr.replace(/\n?Command failed -:\d+\n?/, '\n').trim() || (exitCode === undefined ? 'killed' : 'ended');
    return new CommandError(this.failedCommand(stderr), exitCode, why);
  }

  private failedCommand(stderr: string): string {
    const line = Number(/Command failed -:(\d+)/.exec(stderr)?.[1]);
    const batch = this.pending.find((b) => line >= b.firstLine && line < b.firstLine + b.commands.length);
    if (batch) return `ip ${batch.commands[line - batch.firstLine]}`;
    const running = this.pending[0];
    if (Number.isNaN(line) && running?.commands.length) return `ip -batch (${running.commands.join('; ')})`;
    return `ip ${JSON_BATCH.join(' ')}`;
  }
}
