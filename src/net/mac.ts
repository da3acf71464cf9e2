// Deterministic, locally administered MACs derived from the original one, so a restart gives the
// same addresses (switches and ARP caches stay happy) and nothing collides with a real vendor MAC.
import { createHash } from 'node:crypto';

export function deriveMac(original: string, purpose: string): string {
  const bytes = createHash('sha256').update(`${original.toLowerCase()}/${purpose}`).digest().subarray(0, 6);
  bytes[0] = (bytes[0]! & 0xfc) | 0x02; // unicast, locally administered
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
