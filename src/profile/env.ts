// Environment overrides. The variables are declared once, in the schema's "x-env" table; this module
// parses their values strictly and writes them into the raw profile before validation.
import schema from '../../schemas/profile.schema.json' with { type: 'json' };
import type { PendingProblem } from './schema-errors.ts';
import { pointerToSegments } from './positions.ts';

export interface EnvVariable {
  name: string;
  type: 'boolean' | 'integer' | 'string' | 'words' | 'list' | 'path';
  /** JSON Pointer into the profile; absent for variables read elsewhere (profile path, log format). */
  target?: string;
  negate?: boolean;
  append?: boolean;
  description: string;
}

export const envVariables: readonly EnvVariable[] = schema['x-env'] as EnvVariable[];

/** Where each overridden value came from: profile path (dotted) to variable name and raw value. */
export type EnvOrigins = Map<string, { name: string; raw: string }>;

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

/** Strict booleans: true/false, 1/0, yes/no in any case. Anything else is an error, never a guess. */
export function parseBoolean(raw: string): boolean | undefined {
  const value = raw.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  return undefined;
}

type Parsed = { value: unknown } | { error: string };

export function parseEnvValue(variable: EnvVariable, raw: string): Parsed {
  switch (variable.type) {
    case 'boolean': {
      const value = parseBoolean(raw);
      return value === undefined
        ? { error: `${variable.name}="${raw}" is not a boolean: use true or false (also 1/0, yes/no)` }
        : { value: variable.negate ? !value : value };
    }
    case 'integer':
      return /^\s*[0-9]+\s*$/.test(raw) ? { value: Number(raw) } : { error: `${variable.name}="${raw}" is not a whole number` };
    case 'words': {
      const text = raw.trim();
      if (!text.startsWith('[')) return { value: text ? text.split(/\s+/) : [] };
      try {
        const list: unknown = JSON.parse(text);
        if (Array.isArray(list) && list.every((item) => typeof item === 'string')) return { value: list };
      } catch {
        /* reported below */
      }
      return { error: `${variable.name} starts with "[" but is not a JSON array of strings` };
    }
    case 'list': {
      const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
      return items.length ? { value: items } : { error: `${variable.name} is empty: give a comma-separated list` };
    }
    default:
      return { value: raw };
  }
}

type Json = Record<string, unknown> | unknown[];

/**
 * Resolves a target path in the raw profile, creating objects on the way. In the stages list a
 * segment names a stage rather than an index; a plain string entry is turned into an object so it
 * can take the value. Returns undefined when the stage is not in the profile (nothing to override).
 */
function container(root: Record<string, unknown>, segments: string[]): { parent: Record<string, unknown>; key: string; path: string[] } | undefined {
  let node: Json = root;
  const path: string[] = [];
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (Array.isArray(node)) {
      const index = node.findIndex((entry) => entry === segment || (typeof entry === 'object' && entry !== null && (entry as { stage?: unknown }).stage === segment));
      if (index < 0) return undefined;
      if (typeof node[index] === 'string') node[index] = { stage: segment };
      node = node[index] as Json;
      path.push(String(index));
      continue;
    }
    const next = node[segment];
    if (next === undefined) {
      if (segment === 'stages') return undefined;
      node[segment] = {};
    } else if (typeof next !== 'object' || next === null) return undefined; // the schema will report the wrong type
    node = node[segment] as Json;
    path.push(segment);
  }
  if (Array.isArray(node)) return undefined;
  const key = segments[segments.length - 1]!;
  return { parent: node, key, path: [...path, key] };
}

/** Whether env sets any variable that overrides a profile value. */
export const setsOverrides = (env: NodeJS.ProcessEnv): boolean => envVariables.some((variable) => variable.target !== undefined && env[variable.name] !== undefined);

/** Applies every set variable that has a target. Returns problems for values that do not parse. */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): { problems: PendingProblem[]; origins: EnvOrigins } {
  const problems: PendingProblem[] = [];
  const origins: EnvOrigins = new Map();
  for (const variable of envVariables) {
    const value = env[variable.name];
    if (value === undefined || !variable.target) continue;
    const parsed = parseEnvValue(variable, value);
    if ('error' in parsed) {
      problems.push({ severity: 'error', ruleId: 'env', message: parsed.error, path: `env.${variable.name}`, segments: [], at: 'value' });
      continue;
    }
    const slot = container(raw, pointerToSegments(variable.target));
    if (!slot) continue;
    const previous = slot.parent[slot.key];
    slot.parent[slot.key] = variable.append && Array.isArray(previous) ? [...previous, ...(parsed.value as unknown[])] : parsed.value;
    origins.set(slot.path.join('.'), { name: variable.name, raw: value });
  }
  return { problems, origins };
}

/** A read of one declared variable that is not a profile value (log format, run dir, profile path). */
export function envSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (!envVariables.some((v) => v.name === name)) throw new Error(`internal: ${name} is not declared in the schema's x-env table`);
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
