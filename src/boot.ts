// What bin/startvm hands the bundle, at Symbol.for('startvm.loader') (the two sides must agree; see
// bin/startvm): how the code cache went, the options that fixed V8's string-hash seed, and an
// import() that works where the bundle runs compiled through vm.Script. Without bin/startvm (tests,
// startvm run from its sources) there is none.

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
}

const loader = (): Loader | undefined => (globalThis as Record<symbol, Loader | undefined>)[Symbol.for('startvm.loader')];

export const codeCacheStatus = (): CodeCacheStatus | undefined => loader()?.codeCache;

export const fixedHashSeedOptions = (): readonly string[] => loader()?.fixedHashSeedOptions ?? [];

/** Tells bin/startvm that this training run ran the start path, so its code cache is worth writing. */
export const markTrained = (): void => {
  const current = loader();
  if (current) current.trained = true;
};

/** import() of a module outside the bundle (a profile's stage module). */
export const importModule = (specifier: string): Promise<unknown> => loader()?.import(specifier) ?? import(specifier);

/** Set by `startvm lint --cache` for its child: bin/startvm then writes the code cache when that child exits. */
export const TRAINING_ENV = 'STARTVM_CODE_CACHE_TRAINING';
