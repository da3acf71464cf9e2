// Paths and runners the tests share.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const fixture = (relative: string): string => `${root}test/fixtures/${relative}`;

/** Runs the built CLI (dist bundle) with the project's Node, as a user would. */
export function startvm(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}) {
  return execa(process.execPath, [`${root}bin/startvm`, ...args], {
    reject: false,
    cwd: options.cwd ?? root,
    env: { NO_COLOR: '1', ...options.env },
    extendEnv: false,
    input: options.input,
  });
}
