import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address.js';

async function addressOf(trustProxy: number, socket: string | undefined, forwardedFor?: string): Promise<string> {
  const app = new Hono();
  app.get('/', (c) => c.text(clientAddress(c, trustProxy)));
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  // The bindings @hono/node-server passes: the incoming request, whose socket knows the peer.
  const env = socket === undefined ? undefined : { incoming: { socket: { remoteAddress: socket } } };
  return (await app.request('http://127.0.0.1/', { headers }, env)).text();
}

describe('clientAddress', () => {
  it('is the socket peer without TRUST_PROXY, whatever X-Forwarded-For says', async () => {
    expect(await addressOf(0, '192.0.2.1')).toBe('192.0.2.1');
    expect(await addressOf(0, '192.0.2.1', '203.0.113.9')).toBe('192.0.2.1');
    expect(await addressOf(0, '::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(await addressOf(0, undefined, '203.0.113.9')).toBe('unknown');
  });

  it('counts proxies from the right with TRUST_PROXY', async () => {
    expect(await addressOf(1, '10.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(await addressOf(1, '10.0.0.1', 'forged, 203.0.113.9')).toBe('203.0.113.9');
    expect(await addressOf(1, '10.0.0.1', '198.51.100.1,203.0.113.9')).toBe('203.0.113.9');
    expect(await addressOf(2, '10.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.5')).toBe('203.0.113.9');
    // Fewer hops than proxies: the left-most.
    expect(await addressOf(2, '10.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    expect(await addressOf(1, '10.0.0.1')).toBe('10.0.0.1');
  });

  it('takes addresses as proxies write them, and falls back to the peer for anything else', async () => {
    expect(await addressOf(1, '10.0.0.1', '[2001:db8::7]:443')).toBe('2001:db8::7');
    expect(await addressOf(1, '10.0.0.1', '203.0.113.9:5678')).toBe('203.0.113.9');
    expect(await addressOf(1, '10.0.0.1', '2001:db8::7')).toBe('2001:db8::7');
    expect(await addressOf(1, '10.0.0.1', 'not-an-address')).toBe('10.0.0.1');
  });
});
