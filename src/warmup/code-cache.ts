// The trained code cache (see bin/startvm): `startvm lint --cache` starts a child process of itself
// with TRAINING_ENV set; the child checks the same profiles (the YAML and schema code), keeps their
// YAML parses and checked forms, runs each one's start on a simulated network, and the loader
// writes V8's code cache and the parses when the child exits.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { StageCatalog } from '../profile/semantic.ts';
import { checkProfile, parseForCache } from '../profile/check.ts';
import { checkProfileText } from '../profile/check-text.ts';
import { schemaChecked } from '../profile/check-data.ts';
import { simulateStart } from './simulated-start.ts';
import { codeCacheStatus, keepParses, markTrained, trainedParseOf, TRAINING_ENV, type ParsedProfile } from '../boot.ts';

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

/** At most this many bytes of JSON of parses go into the cache: every start whose cache holds any reads it whole. */
export const PARSES_LIMIT = 64 * 1024;

/**
 * The parses the cache keeps, each with its checked form (src/profile/checked.ts) when there is
 * room: one per distinct text, those JSON carries unchanged, up to PARSES_LIMIT; a note for each
 * left out or kept without its checked form.
 */
export function parsesToKeep(profiles: readonly { file: string; text: string }[]): { parsed: ParsedProfile[]; notes: string[] } {
  const parsed: ParsedProfile[] = [];
  const notes: string[] = [];
  const seen = new Set<string>();
  let size = 2; // []
  const sizeOf = (entry: ParsedProfile): number => Buffer.byteLength(JSON.stringify(entry)) + 1;
  for (const { file, text } of profiles) {
    if (seen.has(text)) continue;
    seen.add(text);
    const data = parseForCache(text);
    if (!data) {
      notes.push(`${file}: its YAML has aliases or values JSON cannot keep (.inf, .nan, -0, binary), so its starts parse the YAML`);
      continue;
    }
    const checked = schemaChecked(data);
    const full: ParsedProfile = { text, data, ...(checked ? { checked } : {}) };
    const entry = size + sizeOf(full) <= PARSES_LIMIT ? full : size + sizeOf({ text, data }) <= PARSES_LIMIT ? { text, data } : undefined;
    if (!entry) notes.push(`${file}: its parse does not fit in the ${PARSES_LIMIT / 1024} KiB the cache keeps for parses, so its starts parse the YAML`);
    else {
      if (entry !== full) notes.push(`${file}: its checked form does not fit in the ${PARSES_LIMIT / 1024} KiB the cache keeps for parses, so its starts check its parse against the schema`);
      parsed.push(entry);
      size += sizeOf(entry);
    }
  }
  return { parsed, notes };
}

/**
 * In the training child: each profile's check and, for those without errors, its start on a
 * simulated network. The check runs twice: from the YAML (the path of lint and of a profile the
 * cache does not know), then from the parse the cache keeps (a start's path). Returns notes on
 * profiles whose parse is not kept and on starts that stopped early (without a disk, exec-kvm
 * stops): what ran before is trained all the same.
 */
export async function trainingRun(files: readonly string[], catalog: StageCatalog): Promise<string[]> {
  const usable: { file: string; text: string }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (checkProfile(text, file, { env: {}, catalog }).profile) usable.push({ file, text }); // errors: the parent's lint reports them
  }
  const { parsed, notes } = parsesToKeep(usable);
  keepParses(parsed);
  for (const { file, text } of usable) {
    // As a start checks it (src/cli/session.ts): from the kept parse when there is one.
    const { profile } = await checkProfileText(text, file, { env: {}, catalog }, trainedParseOf(text));
    if (!profile) continue;
    try {
      if (!(await simulateStart(profile, file))) notes.push(`${file}: the simulated start ended without a hand-over stage`);
    } catch (error) {
      notes.push(`${file}: the simulated start stopped early (${error instanceof Error ? error.message : String(error)}); the code before that point is trained`);
    }
  }
  markTrained(); // the start path ran: the cache is worth writing
  return notes;
}
