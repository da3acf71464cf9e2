// Bridge and tap names from the profile's templates ({{index}}, {{name}}).
import Mustache from 'mustache';

const MAX_IFNAME = 15;

export function linkName(template: string, index: number, name: string): string {
  const rendered = Mustache.render(template, { index, name }, {}, { escape: (s: string) => s });
  if (!/^[^\s/:]{1,15}$/.test(rendered)) throw new Error(`"${template}" gives the link name "${rendered}", which is not a valid interface name (1-${MAX_IFNAME} characters, no spaces, / or :)`);
  return rendered;
}
