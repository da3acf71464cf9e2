// Progress and diagnostics on stderr, as text or JSON lines. The lines a start logs between two
// waits go out in one write at the next turn of the event loop: one wake-up of whoever reads
// stderr (the container runtime's log copier) instead of one per line, while startvm waits for its
// programs. Writes are synchronous, and flushLogs() runs at exit and right before the exec, so
// nothing is lost when QEMU replaces the process (execve discards what is not written).
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
  /** Where lines go, each as it comes; default stderr, a burst of lines in one write (see above). Tests pass a collector. */
  write?: (line: string) => void;
}

const COLORS: Record<Level, string> = { info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };

/**
 * new Date(ms).toISOString() for whole milliseconds in the years 1970 to 9999, without the ~0.25 ms
 * that V8 spends on the first toISOString of a process (a start logging JSON lines pays it). Days
 * to a civil date: Howard Hinnant's days_from_civil, inverted.
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const msOfDay = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // March = 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const two = (n: number): string => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(msOfDay / 3_600_000))}:${two(Math.floor(msOfDay / 60_000) % 60)}:${two(Math.floor(msOfDay / 1000) % 60)}.${String(msOfDay % 1000).padStart(3, '0')}`;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${clock}Z`;
}

/** Lines passed to write() go out together at the next turn of the event loop, or at once by flush(). */
export function batched(writeNow: (text: string) => void): { write(line: string): void; flush(): void } {
  let unwritten = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (!unwritten) return;
    const text = unwritten;
    unwritten = '';
    writeNow(text);
  };
  return {
    write(line) {
      unwritten += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** All of text to fd 2, come what may: a short write goes on, a full non-blocking pipe is retried, a reader that is gone (EPIPE) ends it. */
function toStderr(text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(2, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return; // nowhere to write: a start must not fail for its log
    }
  }
}

const stderr = batched(toStderr);
// Also on an uncaught error: Node emits 'exit' before it prints the error, so the order holds.
process.on('exit', stderr.flush);

/** Writes to stderr what the loggers have not written yet: before anything else writes there, and before an exec. */
export const flushLogs = stderr.flush;

export function createLogger({ format, color, write = stderr.write }: LoggerOptions): Logger {
  const emit = (level: Level, message: string, fields: Record<string, unknown> = {}): void => {
    if (format === 'json') {
      write(`${JSON.stringify({ time: isoTime(Date.now()), level, msg: message, ...fields })}\n`);
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
