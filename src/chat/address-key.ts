import { isIPv6 } from 'node:net';

/**
 * What sign-in throttling counts as one address: an IPv4 address, or the /64 network of an IPv6 one (a single
 * host is usually given a whole /64, so counting its addresses one by one would let it start afresh at will).
 * Anything else (`unknown` when no address is known) is its own key.
 */
export function addressKey(address: string): string {
  const plain = address.split('%')[0] ?? address;
  if (!isIPv6(plain)) return address;
  const [head = '', tail] = plain.toLowerCase().split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  // A dotted IPv4 tail stands for two groups.
  const backGroups = back.length + (back.at(-1)?.includes('.') ? 1 : 0);
  const groups = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - backGroups).fill('0'), ...back];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
