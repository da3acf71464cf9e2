// Turns ajv's errors into one problem per real mistake, with a message a user can act on.
import type { ErrorObject } from 'ajv';
import type { Problem } from '../report/problem.ts';
import { pointerToSegments, segmentsToPath } from './positions.ts';
import { didYouMean } from './suggest.ts';

/** Where a problem sits before it gets a line and column: a path, and whether the key or the value is meant. */
export interface PendingProblem extends Omit<Problem, 'line' | 'column' | 'endLine' | 'endColumn'> {
  segments: string[];
  at: 'key' | 'value';
}

const show = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));
const where = (segments: string[]): string => (segments.length ? segmentsToPath(segments) : 'the profile');

function isStageName(segments: string[]): boolean {
  const [first, , last] = segments;
  return first === 'stages' && (segments.length === 2 || (segments.length === 3 && last === 'stage'));
}

function describe(error: ErrorObject, segments: string[]): { message: string; segments: string[]; at: 'key' | 'value' } {
  const params = error.params as Record<string, unknown>;
  const path = where(segments);
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        message: `unknown key "${key}" in ${path}${didYouMean(key, allowed)}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
        segments: [...segments, key],
        at: 'key',
      };
    }
    case 'required':
      return { message: `${path} is missing the required key "${String(params.missingProperty)}"`, segments, at: 'key' };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      if (isStageName(segments)) {
        return {
          message: `unknown stage ${show(error.data)}${didYouMean(String(error.data), allowed)} (built-in stages: ${allowed.join(', ')}; a stage of your own needs "module")`,
          segments,
          at: 'value',
        };
      }
      return { message: `${path} must be one of ${allowed.join(', ')}, not ${show(error.data)}${didYouMean(String(error.data), allowed)}`, segments, at: 'value' };
    }
    case 'const':
      return { message: `${path} must be ${show(params.allowedValue)}, not ${show(error.data)}`, segments, at: 'value' };
    case 'type':
      return { message: `${path} must be ${article(String(params.type))}, not ${show(error.data)}`, segments, at: 'value' };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: `${path} ${error.message} (got ${show(error.data)})`, segments, at: 'value' };
    case 'pattern':
      return { message: `${path} has an invalid value ${show(error.data)}`, segments, at: 'value' };
    default:
      return { message: `${path} ${error.message ?? 'is invalid'}`, segments, at: 'value' };
  }
}

function article(type: string): string {
  const names: Record<string, string> = { integer: 'an integer', object: 'a mapping', array: 'a list', string: 'a string', boolean: 'true or false', number: 'a number' };
  return type.split(',').map((t) => names[t] ?? t).join(' or ');
}

/** Converts ajv errors; drops if/then wrappers, which only repeat the real error below them. */
export function schemaProblems(errors: readonly ErrorObject[]): PendingProblem[] {
  const seen = new Set<string>();
  const problems: PendingProblem[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    const described = describe(error, pointerToSegments(error.instancePath));
    const id = `${described.segments.join('/')}\0${described.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const ruleId = error.keyword === 'additionalProperties' ? 'unknown-key' : error.keyword === 'enum' && isStageName(described.segments) ? 'unknown-stage' : 'schema';
    problems.push({ severity: 'error', ruleId, path: segmentsToPath(described.segments), ...described });
  }
  return problems;
}
