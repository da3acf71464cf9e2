// The profile reference in the README, generated from the schema so the two cannot drift
// (test/unit/docs.test.ts compares them; `node scripts/reference.ts --write` updates the README).
import schema from '../../schemas/profile.schema.json' with { type: 'json' };
import { envVariables } from '../profile/env.ts';

interface Property {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  items?: Property;
  if?: unknown;
  then?: Property;
  else?: Property;
  properties?: Record<string, Property>;
}

const definitions = schema.definitions as unknown as Record<string, Property>;
const resolveRef = (p: Property): Property => (p.$ref ? { ...definitions[p.$ref.replace('#/definitions/', '')], ...p, $ref: undefined } : p);

function typeOf(p: Property): string {
  const prop = resolveRef(p);
  if (prop.enum) return prop.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (prop.const !== undefined) return `\`${String(prop.const)}\``;
  if (prop.if && prop.then && prop.else) return `${typeOf(prop.then)} or ${typeOf(prop.else)}`;
  if (prop.type === 'array') return `list of ${prop.items ? typeOf(prop.items) : 'any'}`;
  if (prop.type === 'object') return 'mapping';
  return prop.type ?? 'any';
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const defaultOf = (p: Property): string => (p.default === undefined ? '' : `\`${JSON.stringify(p.default)}\``);

function table(prefix: string, properties: Record<string, Property>): string[] {
  const rows = ['| key | type | default | description |', '|---|---|---|---|'];
  for (const [key, raw] of Object.entries(properties)) {
    const p = resolveRef(raw);
    rows.push(`| \`${prefix}${key}\` | ${cell(typeOf(raw))} | ${cell(defaultOf(raw.default !== undefined ? raw : p))} | ${cell(raw.description ?? p.description ?? '')} |`);
  }
  return rows;
}

export function profileReference(): string {
  const props = schema.properties as unknown as Record<string, Property>;
  const out: string[] = ['### Top level', '', ...table('', props), '', '### `vm`', '', ...table('vm.', definitions.vm!.properties!), ''];
  out.push('### `vm.disks[]`', '', ...table('', definitions.disk!.properties!), '', '### `vm.nic`', '', ...table('vm.nic.', definitions.nic!.properties!), '');
  out.push('### `network`', '', ...table('network.', definitions.network!.properties!), '');
  out.push('### `stages[]`', '', resolveRef(props.stages!).description ?? '', '', ...table('', definitions.stageObject!.properties!), '');
  for (const stage of ['capture', 'bridge', 'readdress', 'dhcp', 'exec-kvm']) {
    out.push(`### Options of \`${stage}\``, '', ...table('', definitions[`options.${stage}`]!.properties!), '');
  }
  out.push('### Environment variables', '', '| variable | overrides | description |', '|---|---|---|');
  for (const v of envVariables) out.push(`| \`${v.name}\` | ${v.target ? `\`${v.target.slice(1).replace(/\//g, '.')}\`${v.append ? ' (appends)' : ''}` : ''} | ${cell(v.description)} |`);
  return `${out.join('\n')}\n`;
}

export const REFERENCE_START = '<!-- profile-reference:start (generated from schemas/profile.schema.json by scripts/reference.ts) -->';
export const REFERENCE_END = '<!-- profile-reference:end -->';

export function withReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error('README.md has no profile reference markers');
  return `${readme.slice(0, start + REFERENCE_START.length)}\n\n${profileReference()}\n${readme.slice(end)}`;
}
