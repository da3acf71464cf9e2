// resolv.conf parsing (pure).
import type { Resolver } from './types.ts';

export function parseResolvConf(text: string): Resolver {
  const resolver: Resolver = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0]) resolver.nameservers.push(values[0]);
    else if (keyword === 'search' || keyword === 'domain') resolver.search = values; // the last one wins, as in glibc
    else if (keyword === 'options') resolver.options.push(...values);
  }
  return resolver;
}

export const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';
