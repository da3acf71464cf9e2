// The trained code cache (see bin/startvm): `startvm lint --cache` starts a child process of itself
// with TRAINING_ENV set; the child checks the same profiles (the YAML and schema code), runs each
// one's start on a simulated network, and the loader writes V8's code cache when the child exits.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { StageCatalog } from '../profile/semantic.ts';
import { checkProfile } from '../profile/check.ts';
import { simulateStart } from './simulated-start.ts';
import { codeCacheStatus, markTrained, TRAINING_ENV } from '../boot.ts';

/** Whether bin/startvm started this process to train (it reads TRAINING_ENV). */
export const isTraining = (): boolean => codeCacheStatus()?.state === 'training';

/**
 * In the parent: trains the code cache in a child process (its notes go to stderr). Returns why it
 * could not, or undefined. The child runs without Node flags, neither the parent's command-line
 * ones (--inspect would clash) nor NODE_OPTIONS: V8 refuses a code cache made under other flags
 * than the start's; the image's entrypoint gives Node one V8 flag, which bin/startvm sets back to
 * its default before the cache is checked.
 */
export function trainCodeCache(files: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  if (!codeCacheStatus()) return 'startvm was not started through bin/startvm, whose loader writes the code cache';
  const child = spawnSync(process.execPath, [process.argv[1]!, 'lint', '--cache', '--', ...files], {
    env: { ...Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'NODE_OPTIONS')), [TRAINING_ENV]: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
  if (child.error) return child.error.message;
  if (child.status !== 0) return `the training run exited with ${child.status ?? child.signal}`;
  return undefined;
}

/**
 * In the training child: each profile's check and, for those without errors, its start on a
 * simulated network. Returns notes on starts that stopped early (without a disk, exec-kvm stops):
 * what ran before is trained all the same.
 */
export async function trainingRun(files: readonly string[], catalog: StageCatalog): Promise<string[]> {
  const notes: string[] = [];
  for (const file of files) {
    const { profile } = checkProfile(readFileSync(file, 'utf8'), file, { env: {}, catalog });
    if (!profile) continue; // errors: the parent's lint reports them
    try {
      if (!(await simulateStart(profile, file))) notes.push(`${file}: the simulated start ended without a hand-over stage`);
    } catch (error) {
      notes.push(`${file}: the simulated start stopped early (${error instanceof Error ? error.message : String(error)}); the code before that point is trained`);
    }
  }
  markTrained(); // the start path ran: the cache is worth writing
  return notes;
}
