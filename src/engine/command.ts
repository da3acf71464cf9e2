// Runs child processes with an argument list (never a shell string). Failures explain themselves:
// the command, the exit code and stderr are in the message.
import { execa } from 'execa';

export interface CommandResult { stdout: string; stderr: string; exitCode: number }

export interface CommandOptions {
  /** Text for stdin (ip -batch -). */
  input?: string;
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

export const commandRunner: CommandRunner = async (file, args, options = {}) => {
  const command = [file, ...args].join(' ');
  try {
    const result = await execa(file, args, {
      input: options.input,
      reject: false,
      cancelSignal: options.signal,
      env: options.env,
      extendEnv: options.env === undefined,
      stripFinalNewline: true,
    });
    if (result.failed && result.exitCode === undefined) throw new CommandError(command, undefined, String(result.stderr ?? ''), result);
    const outcome = { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 0 };
    if (outcome.exitCode !== 0 && !options.allowFailure) throw new CommandError(command, outcome.exitCode, outcome.stderr);
    return outcome;
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError(command, undefined, '', error);
  }
};
