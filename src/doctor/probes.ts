// What doctor reads from the host, behind one injectable object so every check is a pure function
// tested with stand-ins. Each probe only looks: opening a device and closing it creates nothing.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Profile } from '../profile/types.ts';
import type { Problem } from '../report/problem.ts';
import { checkProfile, parseForCache } from '../profile/check.ts';
import { profileFromParse, schemaChecked, type CheckOptions } from '../profile/check-data.ts';
import { profileFromChecked, takesChecked } from '../profile/checked.ts';
import { findProfile, ProfileNotFoundError, type FoundProfile } from '../profile/find.ts';
import { findExecutable, openReadWrite, type DeviceCheck } from '../qemu/probes.ts';
import { builtinRegistry } from '../stages/index.ts';
import { codeCacheStatus, trainedParseOf, type CodeCacheStatus } from '../boot.ts';

export type ProfileSource = FoundProfile['source'];

/** The profile as run would load it (env overrides applied), or why it cannot be used. */
export type ProfileLoad =
  | {
      ok: true;
      file: string;
      source: ProfileSource;
      profile: Profile;
      problems: Problem[];
      cachedParse?: CachedParse;
    }
  | {
      ok: false;
      kind: 'missing' | 'unreadable' | 'invalid';
      file?: string;
      source?: ProfileSource;
      reason: string;
      problems: Problem[];
      /** Schema defaults, so the checks that depend on the profile still say something useful. */
      defaults: Profile;
      /** For a file that was read: starts may still take a cached parse that checks clean. */
      cachedParse?: CachedParse;
    };

/**
 * The trained cache's parse of the profile's text, against the file's YAML. matches: the same;
 * absent: none; differs: not made from this text by lint --cache, and starts take it (it checks
 * clean); differs-unused: the same, but starts parse the YAML (it has problems).
 */
export type CachedParse = 'matches' | 'absent' | 'differs' | 'differs-unused';

export interface DoctorProbes {
  profile(): ProfileLoad;
  node(): { version: string; execve: boolean };
  kvm(): DeviceCheck;
  tun(): DeviceCheck;
  vhostNet(): DeviceCheck;
  /** Text of /proc/self/status, or undefined when it cannot be read. */
  procStatus(): string | undefined;
  /** Absolute path of an executable (a name is looked up in PATH), or undefined. */
  executable(name: string): string | undefined;
  /** What bin/startvm did with the code cache; undefined when startvm was not started through it. */
  codeCache(): CodeCacheStatus | undefined;
}

/** Defaults with the env overrides when those are valid (NO_DHCP=true still counts), else plain defaults. */
function defaultsFor(env: NodeJS.ProcessEnv): Profile {
  const { catalog } = builtinRegistry();
  const profile = checkProfile('version: 1\n', 'defaults.yaml', { env, catalog }).profile ?? checkProfile('version: 1\n', 'defaults.yaml', { env: {}, catalog }).profile;
  if (!profile) throw new Error('the schema defaults do not make a valid profile');
  return profile;
}

export function loadProfileForDoctor(flag: string | undefined, env: NodeJS.ProcessEnv, exists?: (path: string) => boolean): ProfileLoad {
  let found: FoundProfile;
  try {
    found = findProfile(flag, env, exists);
  } catch (error) {
    if (!(error instanceof ProfileNotFoundError)) throw error;
    const source: ProfileSource = flag !== undefined ? '--profile' : 'STARTVM_PROFILE';
    return { ok: false, kind: 'missing', source, reason: error.message, problems: [], defaults: defaultsFor(env) };
  }
  let text: string;
  try {
    text = readFileSync(found.path, 'utf8');
  } catch (error) {
    const reason = `cannot read profile ${found.path} (${found.source}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    return { ok: false, kind: 'unreadable', file: found.path, source: found.source, reason, problems: [], defaults: defaultsFor(env) };
  }
  const options = { env, catalog: builtinRegistry().catalog };
  const { profile, problems } = checkProfile(text, found.path, options);
  const cachedParse = cachedParseOf(text, found.path, options);
  if (!profile) return { ok: false, kind: 'invalid', file: found.path, source: found.source, reason: `${found.path} (${found.source}) has problems`, problems, defaults: defaultsFor(env), cachedParse };
  return { ok: true, file: found.path, source: found.source, profile, problems, cachedParse };
}

function cachedParseOf(text: string, file: string, options: CheckOptions): CachedParse {
  const cached = trainedParseOf(text);
  if (cached === undefined) return 'absent';
  const data = parseForCache(text);
  const checked = data && schemaChecked(data);
  if (isDeepStrictEqual(cached.data, data) && (cached.checked === undefined || isDeepStrictEqual(cached.checked, checked))) return 'matches';
  let taken: boolean;
  try {
    // As checkProfileText decides (src/profile/check-text.ts).
    taken = (takesChecked(cached, options.env) ? profileFromChecked(cached.checked, file, options.catalog) : profileFromParse(cached.data, file, options)) !== undefined;
  } catch {
    taken = false;
  }
  return taken ? 'differs' : 'differs-unused';
}

export function hostDoctorProbes(profileFlag: string | undefined, env: NodeJS.ProcessEnv): DoctorProbes {
  return {
    profile: () => loadProfileForDoctor(profileFlag, env),
    node: () => ({ version: process.version, execve: typeof (process as unknown as { execve?: unknown }).execve === 'function' }),
    kvm: () => openReadWrite('/dev/kvm'),
    tun: () => openReadWrite('/dev/net/tun'),
    vhostNet: () => openReadWrite('/dev/vhost-net'),
    procStatus: () => {
      try {
        return readFileSync('/proc/self/status', 'utf8');
      } catch {
        return undefined;
      }
    },
    // The PATH of the environment doctor was given, as run's stages would see it.
    executable: (name) => findExecutable(name, env.PATH ?? ''),
    codeCache: codeCacheStatus,
  };
}
