// Removing what may not be there, without rmSync's cost on the start path: Node's rmSync loads its
// rimraf module on every call, even for a single file or a path where nothing is. Nothing there is
// asked with lstat's throwIfNoEntry rather than caught: on a fresh start most of these paths do not
// exist, and an error thrown costs more (the first one in a process ~0.3 ms).
import { lstatSync, rmSync, unlinkSync } from 'node:fs';

/** Whether anything is at path (a dangling link too); errors other than "no such entry" are thrown. */
const somethingAt = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/** rmSync(path, { force: true }) for a file. */
export function removeFile(path: string): void {
  if (!somethingAt(path)) return;
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // gone in between
  }
}

/** rmSync(path, { recursive: true, force: true }), which runs only when something is there (a dangling link too). */
export function removeTree(path: string): void {
  if (somethingAt(path)) rmSync(path, { recursive: true, force: true });
}
