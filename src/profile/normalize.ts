// After validation: string stage entries become objects and relative paths absolute, so every
// consumer sees one shape.
import { resolve } from 'node:path';
import schema from '../../schemas/profile.schema.json' with { type: 'json' };
import type { Profile, StageEntry, VmSection } from './types.ts';

export function normalizeStages(stages: readonly (string | Partial<StageEntry>)[]): StageEntry[] {
  return stages.map((entry) =>
    typeof entry === 'string'
      ? { stage: entry, enabled: true, options: {} }
      : { stage: entry.stage!, enabled: entry.enabled ?? true, ...(entry.module ? { module: entry.module } : {}), options: entry.options ?? {} },
  );
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Before validation: every stage entry becomes an object with options, so the validator fills each
 * stage's option defaults (ajv evaluates the per-stage schema before it inserts a missing
 * "options", so a missing one would get no defaults). The schema still accepts the short forms.
 */
export function expandStageEntries(data: Record<string, unknown>): void {
  if (data.stages === undefined) data.stages = [...(schema.properties.stages.default as string[])];
  if (!Array.isArray(data.stages)) return;
  data.stages = data.stages.map((entry: unknown) => {
    if (typeof entry === 'string') return { stage: entry, options: {} };
    if (isObject(entry) && entry.options === undefined) return { ...entry, options: {} };
    return entry;
  });
}

/** Relative file paths in vm are relative to the profile's folder, so a profile can ship beside its images. */
function resolveVmPaths(vm: VmSection, profileDir: string): VmSection {
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(profileDir, path));
  const resolved: VmSection = { ...vm, disks: vm.disks.map((disk) => ({ ...disk, path: at(disk.path)! })) };
  for (const key of ['kernel', 'initrd', 'cdrom'] as const) if (vm[key] !== undefined) resolved[key] = at(vm[key]);
  return resolved;
}

export function normalizeProfile(validated: Record<string, unknown>, profileDir: string): Profile {
  const profile = validated as unknown as Profile;
  return { ...profile, vm: resolveVmPaths(profile.vm, profileDir), stages: normalizeStages(validated.stages as (string | StageEntry)[]) };
}
