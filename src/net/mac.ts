// Deterministic, locally administered MACs derived from the original one, so a restart (of the
// same startvm version: the hash is part of it) gives the same addresses, switches and ARP caches
// stay happy, and nothing collides with a real vendor MAC.

/**
 * cyrb53 (a public-domain 53-bit string hash): spread, not secrecy, is what a MAC needs, and
 * node:crypto would be one more module to load on every start.
 */
function hash53(text: string): [high: number, low: number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h2 & 0x1fffff, h1 >>> 0];
}

export function deriveMac(original: string, purpose: string): string {
  const [high, low] = hash53(`${original.toLowerCase()}/${purpose}`);
  const bytes = [high & 0xff, (high >>> 8) & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff];
  bytes[0] = (bytes[0]! & 0xfc) | 0x02; // unicast, locally administered
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
