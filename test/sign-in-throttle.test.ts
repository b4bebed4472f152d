import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorSchema } from '../src/api/schemas.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './support/test-app.js';

// Sign-in throttling: growing delays per (account, address), a cap per address, and X-Forwarded-For read only
// behind TRUST_PROXY. The socket's address is what @hono/node-server hands the app as its bindings
// (`incoming.socket.remoteAddress`); app.request() takes the same bindings as its third argument.

let db: TestDatabase;
let direct: TestApp;
let proxied: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  direct = await createTestApp(db);
  proxied = await createTestApp(db, { TRUST_PROXY: '1' });
});
afterAll(async () => {
  await direct?.close();
  await proxied?.close();
  await db?.drop();
});

async function createUser(password: string): Promise<string> {
  const email = `throttle-${randomUUID()}@example.com`;
  const res = await direct.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email, password } });
  expect(res.status).toBe(201);
  return email;
}

function login(t: TestApp, email: string, password: string, from: { socket: string; forwardedFor?: string }): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (from.forwardedFor !== undefined) headers['x-forwarded-for'] = from.forwardedFor;
  const init = { method: 'POST', headers, body: JSON.stringify({ email, password }) };
  return Promise.resolve(t.app.request('http://127.0.0.1/api/auth/login', init, { incoming: { socket: { remoteAddress: from.socket } } }));
}

async function expectThrottled(res: Response): Promise<number> {
  expect(res.status).toBe(429);
  expect(errorSchema.parse(await res.json()).error.code).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  return retryAfter;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fails sign-ins of one pair until its delay is at least `seconds`, waiting out the shorter ones: what follows then
 * has that long to be refused, however slow the machine (password hashing under load takes a good part of a second).
 */
async function failUntilDelay(t: TestApp, email: string, from: { socket: string; forwardedFor?: string }, seconds: number): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const res = await login(t, email, `wrong ${i}`, from);
    if (res.status === 401) continue;
    const retryAfter = await expectThrottled(res);
    if (retryAfter >= seconds) return;
    await sleep(retryAfter * 1000 + 100);
  }
  throw new Error(`no delay of ${seconds} s after 12 failures`);
}

/** The per-address cap counts in fixed 15-minute windows: a test that counts to it must not straddle two. */
async function awayFromWindowEdge(): Promise<void> {
  const left = 15 * 60_000 - (Date.now() % (15 * 60_000));
  if (left < 40_000) await sleep(left + 200);
}

describe('failed sign-ins slow down the (account, address) pair, not the account', () => {
  it('the right password from another address works after one address failed many times', async () => {
    const email = await createUser('the right password');
    const attacker = { socket: '198.51.100.7' };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await login(direct, email, `guess ${i}`, attacker)).status);
    expect(statuses).toEqual([401, 401, 401]);
    await failUntilDelay(direct, email, attacker, 4);
    statuses.length = 0;
    for (let i = 0; i < 17; i++) statuses.push((await login(direct, email, `guess again ${i}`, attacker)).status);
    expect(statuses).toEqual(Array(17).fill(429));
    // The attacker's own pair stays slowed down, even with the right password...
    await expectThrottled(await login(direct, email, 'the right password', attacker));
    // ...while the owner, elsewhere, signs in at once.
    const owner = await login(direct, email, 'the right password', { socket: '203.0.113.20' });
    expect(owner.status).toBe(204);
  });

  it('waits 1 s after the third failure, then 2 s, then 4 s; a success forgets the failures', async () => {
    const email = await createUser('patience');
    const from = { socket: '198.51.100.8' };
    for (let i = 0; i < 3; i++) expect((await login(direct, email, `typo ${i}`, from)).status).toBe(401);
    const waits: number[] = [];
    for (let round = 0; round < 2; round++) {
      const wait = await expectThrottled(await login(direct, email, 'patience', from));
      waits.push(wait);
      await sleep(wait * 1000 + 50);
      expect((await login(direct, email, `typo again ${round}`, from)).status).toBe(401);
    }
    waits.push(await expectThrottled(await login(direct, email, 'patience', from)));
    expect(waits).toEqual([1, 2, 4]);

    await sleep(4_050);
    expect((await login(direct, email, 'patience', from)).status).toBe(204);
    // Forgotten: the next mistakes start from nothing again.
    for (let i = 0; i < 3; i++) expect((await login(direct, email, `new typo ${i}`, from)).status).toBe(401);
  }, 30_000);

  it('guesses sent in parallel meet the delay too: at most 4 of 12 are checked', async () => {
    const email = await createUser('parallel');
    const from = { socket: '198.51.100.9' };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(direct, email, `burst ${i}`, from)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(4);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(8);
  });

  it('an unknown email is slowed down exactly like a wrong password', async () => {
    const email = `nobody-${randomUUID()}@example.com`;
    const from = { socket: '198.51.100.10' };
    for (let i = 0; i < 3; i++) expect((await login(direct, email, 'x', from)).status).toBe(401);
    await failUntilDelay(direct, email, from, 2);
  });
});

describe('the per-address cap', () => {
  it('one address fails at most 30 times per 15 minutes across accounts; then even a right password waits; other addresses do not', async () => {
    await awayFromWindowEdge();
    const from = { socket: '192.0.2.44' };
    const email = await createUser('sprayed password');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await login(direct, `spray-${i}-${randomUUID()}@example.com`, 'Password1', from)).status);
    expect(statuses).toEqual(Array(30).fill(401));
    const capped = await expectThrottled(await login(direct, email, 'sprayed password', from));
    expect(capped).toBeLessThanOrEqual(15 * 60);
    expect((await login(direct, email, 'sprayed password', { socket: '192.0.2.45' })).status).toBe(204);
  });

  it('holds for guesses sent in parallel', async () => {
    await awayFromWindowEdge();
    const from = { socket: '192.0.2.46' };
    const results = await Promise.all(
      Array.from({ length: 40 }, () => login(direct, `parallel-spray-${randomUUID()}@example.com`, 'Password1', from)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBe(30);
    expect(statuses.filter((s) => s === 429).length).toBe(10);
  });

  it('successful sign-ins do not use it up', async () => {
    await awayFromWindowEdge();
    const from = { socket: '192.0.2.47' };
    const email = await createUser('many times');
    for (let i = 0; i < 31; i++) expect((await login(direct, email, 'many times', from)).status).toBe(204);
    expect((await login(direct, `after-${randomUUID()}@example.com`, 'x', from)).status).toBe(401);
  });
});

describe('X-Forwarded-For', () => {
  it('is ignored without TRUST_PROXY: the socket address is the client', async () => {
    const email = await createUser('no proxy');
    const socket = '198.51.100.30';
    for (let i = 0; i < 3; i++) {
      expect((await login(direct, email, `wrong ${i}`, { socket, forwardedFor: `203.0.113.${i}` })).status).toBe(401);
    }
    await failUntilDelay(direct, email, { socket, forwardedFor: '203.0.113.98' }, 4);
    // A fresh X-Forwarded-For does not make a fresh pair.
    await expectThrottled(await login(direct, email, 'no proxy', { socket, forwardedFor: '203.0.113.99' }));
  });

  it('with TRUST_PROXY=1 gives the address the proxy appended; what the client wrote before it is ignored', async () => {
    const email = await createUser('behind a proxy');
    const proxy = '10.0.0.2';
    for (let i = 0; i < 3; i++) {
      expect((await login(proxied, email, `wrong ${i}`, { socket: proxy, forwardedFor: '203.0.113.50' })).status).toBe(401);
    }
    await failUntilDelay(proxied, email, { socket: proxy, forwardedFor: '203.0.113.50' }, 4);
    // The same client, whatever it puts in front of the proxy's entry:
    await expectThrottled(await login(proxied, email, 'behind a proxy', { socket: proxy, forwardedFor: '203.0.113.50' }));
    await expectThrottled(await login(proxied, email, 'behind a proxy', { socket: proxy, forwardedFor: '1.2.3.4, 203.0.113.50' }));
    // Another client behind the same proxy is another address.
    expect((await login(proxied, email, 'behind a proxy', { socket: proxy, forwardedFor: '203.0.113.51' })).status).toBe(204);
  });
});
