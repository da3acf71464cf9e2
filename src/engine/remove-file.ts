// Removes a file if it is there: rmSync(path, { force: true }) without its cost on the start path
// (Node's rmSync loads its rimraf module even for a single file).
import { unlinkSync } from 'node:fs';

export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
