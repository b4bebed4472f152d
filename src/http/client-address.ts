import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

function socketAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not served by node (app.request in tests, another runtime)
  }
}

/** An address as a proxy may write it (`[2001:db8::1]:443`, `203.0.113.7:5678`, `::ffff:203.0.113.7`), bare; or undefined. */
function bareAddress(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let a = raw.trim();
  const bracketed = a.match(/^\[([^\]]+)\](?::\d+)?$/);
  if (bracketed?.[1]) a = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (/^::ffff:[\d.]+$/i.test(a)) a = a.slice(7);
  return isIP(a) ? a : undefined;
}

/**
 * The address a request came from, for sign-in throttling. With `trustProxy` 0 (the default) it is the socket's
 * peer, and X-Forwarded-For is never read: anyone can send one. With `trustProxy` n, n proxies of ours stand in
 * front, each appending the address it received the request from to X-Forwarded-For: the hops are then
 * [...X-Forwarded-For, socket peer], and the client is the n-th from the right, the address our outermost proxy
 * saw. Entries further left were written by the client and are ignored. Fewer hops than n (a request that did not
 * pass through every proxy) gives the left-most one.
 */
export function clientAddress(c: Context, trustProxy: number): string {
  const peer = socketAddress(c);
  const fallback = bareAddress(peer) ?? 'unknown';
  if (trustProxy <= 0) return fallback;
  const forwarded = (c.req.header('x-forwarded-for') ?? '').split(',').filter((s) => s.trim() !== '');
  const hops = [...forwarded, peer ?? 'unknown'];
  const chosen = hops[Math.max(0, hops.length - 1 - trustProxy)];
  // An entry that is no address means the proxies are not set up as TRUST_PROXY says: trust nothing then.
  return bareAddress(chosen) ?? fallback;
}
