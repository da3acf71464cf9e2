// Parsed profiles by content. Parsing YAML is the slowest part of a start (the parser's code is
// loaded and run cold in every new process), and a VM image starts the same profile again and
// again: the image build can store its parse (`startvm lint --cache`), and a start stores the parse
// of a profile it has not seen, for the next start of the same container. Only the parse is kept:
// env overrides, the schema and the semantic rules run on every start, and a profile with any
// problem is never stored, so every message keeps its line and column.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { version } from '../cli/version.ts';
import { envSetting } from './env.ts';

export const DEFAULT_CACHE_DIR = '/var/cache/startvm';

/** Where parsed profiles are kept; STARTVM_CACHE_DIR="" switches the cache off. */
export const cacheDirOf = (env: NodeJS.ProcessEnv): string | undefined => (env.STARTVM_CACHE_DIR === undefined ? DEFAULT_CACHE_DIR : envSetting(env, 'STARTVM_CACHE_DIR'));

/** Bumped when what a stored parse means changes (parser options, the yaml package's major version). */
const FORMAT = 1;

interface Entry {
  format: number;
  startvm: string;
  text: string;
  data: Record<string, unknown>;
}

export interface ProfileCache {
  /** The stored parse of exactly this text, or undefined. */
  get(text: string): Record<string, unknown> | undefined;
  /**
   * Stores a parse; false when it could not (no cache dir, a value JSON cannot hold, a read-only or
   * full disk). Best effort: a parse not stored only means the next start parses again.
   */
  put(text: string, data: Record<string, unknown>): boolean;
}

/** FNV-1a: a file name for the text. A hit also compares the whole text, so collisions are harmless. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** Only plain JSON values survive the file unchanged (YAML also has .inf, .nan, ...). */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).every(isPlainJson);
  return false;
}

export function profileCache(dir: string | undefined): ProfileCache {
  if (!dir) return { get: () => undefined, put: () => false };
  const fileFor = (text: string): string => `${dir}/profile-${fnv1a(text)}-${text.length}.json`;
  return {
    get(text) {
      try {
        const entry = JSON.parse(readFileSync(fileFor(text), 'utf8')) as Entry;
        return entry.format === FORMAT && entry.startvm === version && entry.text === text ? entry.data : undefined;
      } catch {
        return undefined; // missing, unreadable or damaged: parse instead
      }
    },
    put(text, data) {
      if (!isPlainJson(data)) return false;
      const file = fileFor(text);
      const temporary = `${file}.${process.pid}.tmp`;
      const body: Entry = { format: FORMAT, startvm: version, text, data };
      try {
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        writeFileSync(temporary, JSON.stringify(body), { mode: 0o644 });
        renameSync(temporary, file); // readers see a whole entry or none
        return true;
      } catch {
        try {
          rmSync(temporary, { force: true });
        } catch {
          // the directory itself is unusable: nothing was written
        }
        return false;
      }
    },
  };
}
