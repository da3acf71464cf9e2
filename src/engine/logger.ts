// Progress and diagnostics on stderr, as text or JSON lines. Writes are synchronous so nothing is
// lost when the process is replaced by QEMU (execve discards unflushed buffers).
import { writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type Level = 'info' | 'warn' | 'error';

export interface Logger {
  readonly format: LogFormat;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  stage(stage: string, event: 'start' | 'done' | 'skipped' | 'failed' | 'rollback' | 'rolled-back', fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  format: LogFormat;
  color: boolean;
  /** Where lines go; default stderr. Tests pass a collector. */
  write?: (line: string) => void;
}

const COLORS: Record<Level, string> = { info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

export function createLogger({ format, color, write = (line) => writeSync(2, line) }: LoggerOptions): Logger {
  const emit = (level: Level, message: string, fields: Record<string, unknown> = {}): void => {
    if (format === 'json') {
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
      return;
    }
    const tag = color ? `${COLORS[level]}startvm\x1b[0m` : 'startvm';
    const prefix = level === 'info' ? '' : `${level}: `;
    write(`${tag}: ${prefix}${message}\n`);
  };
  return {
    format,
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    stage(stage, event, fields = {}) {
      const level: Level = event === 'failed' ? 'error' : 'info';
      const ms = typeof fields.ms === 'number' ? ` (${fields.ms} ms)` : '';
      const detail = typeof fields.detail === 'string' ? `: ${fields.detail}` : '';
      emit(level, `[${stage}] ${event}${ms}${detail}`, { stage, event, ...fields });
    },
  };
}

/** A logger that keeps lines in memory (tests, plan --json). */
export function memoryLogger(format: LogFormat = 'text'): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ format, color: false, write: (line) => void lines.push(line) }), { lines });
}
