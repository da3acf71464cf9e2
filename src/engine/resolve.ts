// Turns the profile's stage entries into stage instances: built-ins from the registry, others
// imported from the module the profile names and checked against the module's own options schema.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Profile } from '../profile/types.ts';
import type { Stage } from './stage.ts';
import type { StageRegistry } from './registry.ts';
import { StageError } from './errors.ts';
import { importModule } from '../boot.ts';

export interface ResolvedStage {
  stage: Stage<any>;
  options: Record<string, unknown>;
  enabled: boolean;
}

function isStage(value: unknown): value is Stage<any> {
  const candidate = value as Partial<Stage> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.name === 'string' && typeof candidate.apply === 'function';
}

async function validateModuleOptions(name: string, schema: object, options: Record<string, unknown>): Promise<void> {
  // Only stages from modules compile a schema at run time; built-ins are precompiled.
  const [{ default: Ajv }, { ajvOptions }] = await Promise.all([import('ajv'), import('../profile/ajv-options.ts')]);
  const validate = new Ajv.default({ ...ajvOptions, verbose: false }).compile(schema);
  if (!validate(options)) {
    const details = (validate.errors ?? []).map((e) => `options${e.instancePath.replace(/\//g, '.')} ${e.message}`).join('; ');
    throw new Error(`invalid options for stage "${name}": ${details}`);
  }
}

async function loadModuleStage(entryName: string, modulePath: string, profileDir: string): Promise<Stage<any>> {
  const url = pathToFileURL(resolve(profileDir, modulePath)).href;
  const loaded = (await importModule(url)) as { default?: unknown };
  if (!isStage(loaded.default)) throw new Error(`${modulePath} must export a stage as default: { name, description, apply, rollback?, optionsSchema? }`);
  if (loaded.default.name !== entryName) throw new Error(`${modulePath} exports stage "${loaded.default.name}", but the profile calls it "${entryName}"`);
  return loaded.default;
}

export async function resolveStages(profile: Profile, registry: StageRegistry, profileDir: string): Promise<ResolvedStage[]> {
  const resolved: ResolvedStage[] = [];
  for (const entry of profile.stages) {
    let stage: Stage<any> | undefined;
    try {
      stage = entry.module ? await loadModuleStage(entry.stage, entry.module, profileDir) : registry.get(entry.stage);
      if (!stage) throw new Error(`no such stage (known: ${registry.names().join(', ')})`);
      if (entry.module && stage.optionsSchema) await validateModuleOptions(entry.stage, stage.optionsSchema, entry.options);
    } catch (cause) {
      throw new StageError(entry.stage, 'load', cause);
    }
    resolved.push({ stage, options: entry.options, enabled: entry.enabled });
  }
  return resolved;
}
