// Where the profile comes from: --profile, then $STARTVM_PROFILE, then /etc/startvm/profile.yaml,
// then the built-in default. A path the user named must exist: no silent fallback.
import { existsSync } from 'node:fs';
import { packagePath } from '../paths.ts';
import { envSetting } from './env.ts';

export const MOUNTED_PROFILE = '/etc/startvm/profile.yaml';
export const BUILTIN_PROFILE = packagePath('profiles/default.yaml');

export interface FoundProfile {
  path: string;
  source: '--profile' | 'STARTVM_PROFILE' | 'mounted' | 'built-in';
}

export class ProfileNotFoundError extends Error {}

export function findProfile(flag: string | undefined, env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): FoundProfile {
  if (flag !== undefined) {
    if (!exists(flag)) throw new ProfileNotFoundError(`profile ${flag} (from --profile) does not exist`);
    return { path: flag, source: '--profile' };
  }
  const fromEnv = envSetting(env, 'STARTVM_PROFILE');
  if (fromEnv !== undefined) {
    if (!exists(fromEnv)) throw new ProfileNotFoundError(`profile ${fromEnv} (from STARTVM_PROFILE) does not exist`);
    return { path: fromEnv, source: 'STARTVM_PROFILE' };
  }
  if (exists(MOUNTED_PROFILE)) return { path: MOUNTED_PROFILE, source: 'mounted' };
  return { path: BUILTIN_PROFILE, source: 'built-in' };
}
