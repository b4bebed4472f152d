import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startRealServer, type RealServer } from './support/real-server.js';
import { ADMIN_TOKEN, readSse } from './support/test-app.js';

// The real server (startServer, as `npm start` runs it) with short timeouts: a client that sends slowly is cut,
// a response that streams for longer than the request timeout is not.

const HEADERS_MS = 500;
const REQUEST_MS = 1_000;

let db: TestDatabase;
let server: RealServer;
let port: number;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startRealServer(db, { LOCAL_MODEL_CHUNK_DELAY_MS: '80' }, { httpTimeouts: { headersMs: HEADERS_MS, requestMs: REQUEST_MS } });
  ({ port } = server);
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/**
 * Opens a connection, writes `first`, then one more chunk of `drip()` every 100 ms (at most 60), and resolves with
 * what the server answered and after how long it closed the connection (undefined: still open after 6 s).
 */
function slowClient(first: string, drip: (i: number) => string): Promise<{ closedAfterMs: number | undefined; answer: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = tcpConnect(port, '127.0.0.1');
    let answer = '';
    let ticks = 0;
    const timer = setInterval(() => {
      if (ticks++ >= 60) {
        clearInterval(timer);
        socket.destroy();
        resolve({ closedAfterMs: undefined, answer });
        return;
      }
      if (!socket.destroyed) socket.write(drip(ticks));
    }, 100);
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - started, answer });
    });
    socket.write(first);
  });
}

describe('HTTP server timeouts', () => {
  it('closes a connection whose headers arrive too slowly (408)', async () => {
    const { closedAfterMs, answer } = await slowClient('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', (i) => `X-Slow-${i}: 1\r\n`);
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(HEADERS_MS + 2_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose body arrives too slowly (408)', async () => {
    const head =
      'POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n' +
      `Authorization: Bearer ${ADMIN_TOKEN}\r\n\r\n{"name":"`;
    const { closedAfterMs, answer } = await slowClient(head, () => 'a');
    expect(closedAfterMs).toBeDefined();
    expect(closedAfterMs!).toBeLessThan(REQUEST_MS + 2_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('does not cut responses that stream for longer than the request timeout', async () => {
    const token = await server.createUserToken('streamer@example.com');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/api/reports`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ title: 'Long', content: `# Long\n\n${'A sentence about the pool and its limits. '.repeat(200)}` }),
    });
    const { id: reportId } = (await created.json()) as { id: string };

    const events = readSse(await fetch(`${server.url}/api/reports/${reportId}/events`, { headers: auth }));
    await new Promise((r) => setTimeout(r, 2 * REQUEST_MS + 500));

    const started = Date.now();
    const answer = readSse(
      await fetch(`${server.url}/api/reports/${reportId}/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ content: 'What does the report say about the pool and its limits?' }),
      }),
    );
    const parts = (await answer.all()) as Array<{ type?: string; data?: { saved?: boolean } }>;
    const streamedMs = Date.now() - started;
    expect(parts.find((p) => p.type === 'data-saved')?.data?.saved).toBe(true);
    expect(streamedMs).toBeGreaterThan(2 * REQUEST_MS);

    // The events stream opened long before still delivers the answer's final state.
    for (let i = 0; i < 500; i++) {
      const ev = await events.next(10_000);
      if (!ev) throw new Error('the events stream ended');
      if (ev.event === 'message' && (JSON.parse(ev.data) as { role: string; status: string }).status === 'complete') break;
    }
    await events.stop();
  }, 60_000);
});
