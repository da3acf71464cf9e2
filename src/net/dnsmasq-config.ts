// dnsmasq.conf from its mustache template. The shipped template is parsed at build time
// (scripts/build.ts): parsing it took ~0.7 ms of every start. Another template (dhcp.options.template),
// or a shipped one edited after the build, is parsed here as before.
import Mustache from 'mustache';
import shipped from './generated/dnsmasq-template.json' with { type: 'json' };
import type { DnsmasqView } from './dnsmasq-view.ts';

// dnsmasq.conf is not HTML: no escaping.
const config = { escape: (s: string): string => s };

export function renderDnsmasqConfig(template: string, view: DnsmasqView): string {
  if (template !== shipped.template) return Mustache.render(template, view, {}, config);
  // (@types/mustache types renderTokens' tokens as string[][]; they are what Mustache.parse returns.)
  return new Mustache.Writer().renderTokens(shipped.tokens as unknown as string[][], new Mustache.Context(view), {}, template, config);
}
