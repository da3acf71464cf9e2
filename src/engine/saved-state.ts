// State saved in the run directory so that a second start can pick up where the first left off.
// Kubernetes restarts a container in the same pod network namespace: the bridge is built and the
// addresses have moved, so the original configuration can only come from here. Docker restarts a
// container with a fresh namespace but the same filesystem: that state is stale and is ignored.
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { removeFile } from './remove-file.ts';
import type { Logger } from './logger.ts';
import { UserError } from './errors.ts';
import type { PipelineState } from './state.ts';
import type { StatePersistence } from './pipeline.ts';

const FILE = 'state.json';

/** Identifies this network namespace on this boot: inode numbers are only unique while it exists. */
export function namespaceIdentity(): string {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const ns = statSync('/proc/self/ns/net');
  return `${bootId}/${ns.dev}:${ns.ino}`;
}

/** Whether file was last written before this machine started (btime in /proc/stat); false when unsure. */
function writtenBeforeBoot(file: string): boolean {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return btime !== null && statSync(file).mtimeMs < Number(btime[1]) * 1000;
  } catch {
    return false;
  }
}

interface SavedFile {
  namespace: string;
  state: PipelineState;
}

export interface SavedStateStore extends StatePersistence {
  /** The saved state when it belongs to this namespace, else an empty one. */
  load(): PipelineState;
}

export function savedStateStore(runDir: string, log: Logger, identity: () => string = namespaceIdentity): SavedStateStore {
  const path = `${runDir}/${FILE}`;
  const temporary = `${path}.tmp`;
  let namespace: string | undefined; // read once: a process does not change its network namespace
  const ours = (): string => (namespace ??= identity());
  let written: string | undefined; // the file's content as this process last wrote it
  return {
    load() {
      // state.json.tmp alone: a save was stopped between its two last steps (see save), so it is whole.
      // Asked, not caught: on a first start there is neither, and an error thrown costs more.
      const file = existsSync(path) ? path : existsSync(temporary) ? temporary : undefined;
      if (!file) return {};
      let saved: SavedFile;
      try {
        saved = JSON.parse(readFileSync(file, 'utf8')) as SavedFile;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
        // Half a first save: it was stopped before anything had changed.
        if (file === temporary) {
          removeFile(temporary);
          return {};
        }
        // Written before this machine last started (a host crash can leave it empty): from another
        // boot, so from another namespace, which the check below would ignore too.
        if (writtenBeforeBoot(file)) {
          log.warn(`ignoring ${file}: it cannot be read and was written before this machine started`);
          removeFile(file);
          return {};
        }
        // Guessing would capture an already re-addressed namespace as if it were the original.
        throw new UserError(`cannot read the saved state ${path}: ${(error as Error).message}; if this container's network was never set up by startvm, remove the file`);
      }
      if (saved.namespace !== ours()) {
        log.warn(`ignoring ${file}: it was saved in another network namespace (a restarted container with a new network)`);
        removeFile(file);
        return {};
      }
      // Back in its place: the next save starts by removing state.json.tmp, and must not remove the only copy.
      if (file === temporary) renameSync(temporary, path);
      log.info(`re-entry: recovered the captured configuration from ${file}`);
      return saved.state;
    },
    save(state) {
      const body: SavedFile = { namespace: ours(), state };
      const text = `${JSON.stringify(body, null, 2)}\n`;
      // Skipped when unchanged, or when there is nothing to keep (no file reads as an empty state): a
      // start saves before every stage.
      const unchanged = text === written && existsSync(path);
      const nothingToKeep = written === undefined && Object.keys(state).length === 0 && !existsSync(path);
      if (unchanged || nothingToKeep) return;
      // A fresh file (wx after unlink): never write through something planted at that name.
      removeFile(temporary);
      writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
      // Not renamed over the old file: ext4 flushes the data of a file renamed over another
      // (auto_da_alloc), ~0.3 ms of each of a start's four saves. The old file goes first, and a
      // kill between the two steps leaves the whole new one as state.json.tmp, which load reads.
      removeFile(path);
      renameSync(temporary, path);
      written = text;
    },
    clear() {
      // The temporary first: with state.json gone, load would take a leftover one for the state.
      removeFile(temporary);
      removeFile(path);
      written = undefined;
    },
  };
}
