// What bin/startvm hands the bundle, at Symbol.for('startvm.loader') (the two sides must agree; see
// bin/startvm): how the code cache went, the options that fixed V8's string-hash seed, an import()
// that works where the bundle runs compiled through vm.Script, and the YAML parses the trained cache
// holds. Without bin/startvm (tests, startvm run from its sources) there is none.

export interface CodeCacheStatus {
  file: string;
  /** mismatch: made from another build of the bundle; rejected: V8 refused it (another Node version or V8 flags). */
  state: 'absent' | 'accepted' | 'mismatch' | 'rejected' | 'unreadable' | 'training';
  /** Why it could not be read (unreadable). */
  reason?: string;
}

interface Loader {
  codeCache: CodeCacheStatus;
  /** The Node options that made V8 keep its snapshot's string-hash seed (--no-rehash-snapshot), as given; empty without. */
  fixedHashSeedOptions: readonly string[];
  import(specifier: string): Promise<unknown>;
  /** Set by the training run once it has run the start path: only then does bin/startvm write a cache. */
  trained: boolean;
  /**
   * JSON of the profiles' YAML parses ([{text, data, checked?}]): read from a cache that belongs to this
   * bundle, and set by the training run for the cache it writes. '[]' when there are none.
   */
  parsedProfiles: string;
}

/** What the trained cache keeps of a profile's text: its YAML's data, and that data as the schema left it without env overrides. */
export interface TrainedParse {
  data: Record<string, unknown>;
  /** Stage entries expanded and the schema's defaults in (src/profile/checked.ts); absent if the schema refused it. */
  checked?: Record<string, unknown>;
}

export interface ParsedProfile extends TrainedParse {
  text: string;
}

const loader = (): Loader | undefined => (globalThis as Record<symbol, Loader | undefined>)[Symbol.for('startvm.loader')];

export const codeCacheStatus = (): CodeCacheStatus | undefined => loader()?.codeCache;

export const fixedHashSeedOptions = (): readonly string[] => loader()?.fixedHashSeedOptions ?? [];

/** Tells bin/startvm that this training run ran the start path, so its code cache is worth writing. */
export const markTrained = (): void => {
  const current = loader();
  if (current) current.trained = true;
};

/** In the training run: the parses the cache is to keep; from here on trainedParseOf finds them, as in a start. */
export const keepParses = (parsed: readonly ParsedProfile[]): void => {
  const current = loader();
  if (current) current.parsedProfiles = JSON.stringify(parsed);
};

/**
 * What the trained cache keeps of this exact profile text, as fresh objects (the check changes what
 * it is given); undefined when it has nothing for it, or when the cache's line is not what the
 * training wrote.
 */
export const trainedParseOf = (text: string): TrainedParse | undefined => {
  const json = loader()?.parsedProfiles;
  if (!json || json === '[]') return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(json); // anew on each call
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  const entry = (entries as Partial<ParsedProfile>[]).find((e) => e?.text === text);
  if (!entry || !isMapping(entry.data)) return undefined;
  return { data: entry.data, ...(isMapping(entry.checked) ? { checked: entry.checked } : {}) };
};

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** import() of a module outside the bundle (a profile's stage module). */
export const importModule = (specifier: string): Promise<unknown> => loader()?.import(specifier) ?? import(specifier);

/** Set by `startvm lint --cache` for its child: bin/startvm then writes the code cache when that child exits. */
export const TRAINING_ENV = 'STARTVM_CODE_CACHE_TRAINING';
