// Removing what may not be there, without rmSync's cost on the start path: Node's rmSync loads its
// rimraf module on every call, even for a single file or a path where nothing is.
import { lstatSync, rmSync, unlinkSync } from 'node:fs';

/** rmSync(path, { force: true }) for a file. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** rmSync(path, { recursive: true, force: true }), which runs only when something is there (a dangling link too). */
export function removeTree(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return; // nothing there
  }
  rmSync(path, { recursive: true, force: true });
}
