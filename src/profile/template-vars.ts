// The values mustache templates in vm.args may use. exec-kvm builds the view; lint checks names
// against this list, so a typo is caught before the container starts.
import Mustache from 'mustache';

export const NIC_FIELDS = ['iface', 'mac', 'address', 'prefix', 'gateway', 'mtu', 'bridge', 'port'] as const;
export const TOP_LEVEL = ['hostname', 'runDir', 'cpus', 'memory'] as const;

export function isKnownVariable(name: string): boolean {
  if ((TOP_LEVEL as readonly string[]).includes(name)) return true;
  const match = /^nics\.(\d+)\.(\w+)$/.exec(name);
  return match !== null && (NIC_FIELDS as readonly string[]).includes(match[2]!);
}

export const knownVariablesText = `${TOP_LEVEL.join(', ')}, nics.N.{${NIC_FIELDS.join(',')}}`;

/** Variable names used by a template; throws on a syntax error. */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  const visit = (tokens: unknown[][]): void => {
    for (const token of tokens) {
      const [type, value, , , children] = token as [string, string, number, number, unknown[][] | undefined];
      if (type === 'name' || type === '&' || type === '#' || type === '^') names.push(value);
      if (Array.isArray(children)) visit(children);
    }
  };
  visit(Mustache.parse(template) as unknown as unknown[][]);
  return names;
}
