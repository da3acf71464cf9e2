// Paths and runners the tests share.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const fixture = (relative: string): string => `${root}test/fixtures/${relative}`;

/** A code cache of the test process's own, not one next to the bundle that other tests would load. */
export const testCacheDir = `${tmpdir()}/startvm-test-cache-${process.pid}`;
process.on('exit', () => rmSync(testCacheDir, { recursive: true, force: true }));

/** Runs the built CLI (dist bundle) with the project's Node, as a user would. */
export function startvm(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}) {
  return execa(process.execPath, [`${root}bin/startvm`, ...args], {
    reject: false,
    cwd: options.cwd ?? root,
    env: { NO_COLOR: '1', STARTVM_CODE_CACHE: `${testCacheDir}/startvm.codecache`, ...options.env },
    extendEnv: false,
    input: options.input,
  });
}
