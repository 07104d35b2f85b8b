/**
 * The capture filter for a diagnosis: the target's addresses (and a
 * published address the probe goes to) plus ARP, so that neighbour
 * resolution is seen too. A user filter replaces the address part.
 */
export function buildFilter(addresses: string[], userFilter?: string): string {
  const hosts = [...new Set(addresses)].map((a) => `host ${a}`);
  const base = userFilter ? `(${userFilter})` : hosts.length ? `(${hosts.join(' or ')})` : '';
  // All ARP: the target's, and the sender's for its next hop (low volume, and often the story).
  const arpPart = addresses.some((a) => !a.includes(':')) ? ['arp'] : [];
  const nd = addresses.some((a) => a.includes(':')) ? ['icmp6'] : [];
  return [base, ...arpPart, ...nd].filter(Boolean).join(' or ');
}
