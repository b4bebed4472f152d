import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeResponseOf, sseResponse, type SseWriter } from './sse.js';

/**
 * sseResponse under @hono/node-server, over a real socket: once the adapter has sent the head, later writes go to the
 * Node response directly. What a client receives must not tell the two paths apart.
 */

const turn = () => new Promise((resolve) => setImmediate(resolve));

let server: ServerType | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** One SSE route whose producer the test drives, behind a middleware that sets a header after the handler (as request-id does). */
async function start(opening?: (w: SseWriter) => Promise<void>): Promise<{ port: number; writer: Promise<SseWriter>; finish: () => void; errors: unknown[] }> {
  let gotWriter!: (w: SseWriter) => void;
  const writer = new Promise<SseWriter>((resolve) => (gotWriter = resolve));
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const errors: unknown[] = [];
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    // A middleware that waits for something after the handler: the producer's first writes come before the head.
    await new Promise((resolve) => setTimeout(resolve, 30));
    c.header('X-After', 'set after the handler');
  });
  app.get('/sse', (c) =>
    sseResponse(
      { 'X-Test': '1' },
      async (w) => {
        await opening?.(w);
        gotWriter(w);
        await finished;
      },
      (err) => errors.push(err),
      nodeResponseOf(c),
    ),
  );
  const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  server = s;
  await new Promise<void>((resolve) => (s.listening ? resolve() : s.once('listening', () => resolve())));
  return { port: (s.address() as AddressInfo).port, writer, finish, errors };
}

function get(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/sse', agent: false }, resolve).on('error', reject).end();
  });
}

async function bodyOf(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

describe('sseResponse on a Node response', () => {
  it('sends every event in order, with the head the middleware completed, whichever way each one went out', async () => {
    const expected: string[] = [];
    // What a route writes as it starts (the events route's `: connected`, a turn's opening events) goes out while the
    // adapter is still reading the first chunks to decide on the head.
    const { port, writer, finish, errors } = await start(async (w) => {
      for (let k = 0; k < 4; k++) {
        w.data({ opening: k });
        expected.push(`data: {"opening":${k}}\n\n`);
        if (k % 2 === 1) await turn();
      }
    });
    const res = await get(port);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-test']).toBe('1');
    expect(res.headers['x-after']).toBe('set after the handler');
    const body = bodyOf(res);
    const w = await writer;
    // Single events, bursts in one turn, and events written while the adapter may still hold a read of its own.
    for (let i = 0; i < 200; i++) {
      const burst = i % 7 === 0 ? 5 : 1;
      for (let j = 0; j < burst; j++) {
        w.data({ i, j });
        expected.push(`data: {"i":${i},"j":${j}}\n\n`);
      }
      if (i % 3 !== 0) await turn();
    }
    w.write(': last\n\n');
    w.close();
    finish();
    expect(await body).toBe(`${expected.join('')}: last\n\n`);
    expect(errors).toEqual([]);
  });

  it('drops a client that stops reading once more than 1 MiB waits for it', async () => {
    const { port, writer, finish } = await start();
    const res = await get(port);
    res.pause(); // connected, and reads nothing more: the kernel's buffers fill, then the response's own
    const w = await writer;
    const piece = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    let accepted = 0;
    for (let i = 0; i < 400 && w.write(piece); i++) {
      accepted++;
      await turn();
    }
    expect(w.closed).toBe(true);
    expect(accepted).toBeLessThan(400);
    res.destroy();
    finish();
  });

  it('tells the producer when the client goes away', async () => {
    const { port, writer, finish } = await start();
    const res = await get(port);
    const w = await writer;
    w.data({ hello: 1 });
    await turn();
    const closed = new Promise<void>((resolve) => w.onClose(resolve));
    res.destroy();
    await closed;
    expect(w.write('data: x\n\n')).toBe(false);
    finish();
  });
});
