// The image's entrypoint starts Node with --no-rehash-snapshot (bin/startvm explains the gain): V8
// then hashes strings with the seed baked into Node's snapshot, the same in every process and
// public, instead of a random one. A known seed lets crafted input (many keys that collide) make
// V8's hash tables slow: hash flooding. run, plan and doctor read the operator's profile and the
// container's own configuration, and run ends in an exec within ~50 ms, so they keep the flag and
// the gain. lint is the command for files from anyone (a CI job on a pull request): it starts Node
// again without the flag, with a random seed.
import { fixedHashSeedOptions } from '../boot.ts';
import { processExecve } from '../engine/execve.ts';

/** The Node command line that starts this process again without the options that fixed the seed; undefined when none did. */
export function commandLineWithRandomSeed(fixedBy: readonly string[], execPath: string, execArgv: readonly string[], argv: readonly string[]): string[] | undefined {
  if (fixedBy.length === 0) return undefined;
  return [execPath, ...execArgv.filter((option) => !fixedBy.includes(option)), ...argv.slice(1)];
}

/** Replaces this process (same PID, nothing written yet) with one that has a random seed; returns when the seed is random already. */
export function restartWithRandomHashSeed(): void {
  const args = commandLineWithRandomSeed(fixedHashSeedOptions(), process.execPath, process.execArgv, process.argv);
  const execve = processExecve();
  if (args && execve) execve(process.execPath, args, process.env);
}
