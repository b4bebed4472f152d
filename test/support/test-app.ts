import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { hashToken } from '../../src/chat/accounts.js';
import type { ChatContext } from '../../src/chat/context.js';
import { createChatContext } from '../../src/chat/create-context.js';
import { startSweeper } from '../../src/chat/sweeper.js';
import { SseParser, type SseRecord } from '../../src/client/sse.js';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import type { AppEnv } from '../../src/http/env.js';
import type { StreamCounts } from '../../src/http/routes/events.js';
import { createLogger } from '../../src/log/logger.js';
import type { TestDatabase } from './database.js';
import { SAMPLE_REPORT } from './fixtures.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestApp {
  app: Hono<AppEnv>;
  ctx: ChatContext;
  streams: StreamCounts;
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  createUser(email?: string): Promise<{ id: string; token: string }>;
  createReport(token: string, content?: string, title?: string): Promise<string>;
  close(): Promise<void>;
}

export { SAMPLE_REPORT };

/** Requests to an app without a port (app.request), with a bearer token and a JSON body made for the caller. */
export function requestVia(app: Hono<AppEnv>): TestApp['request'] {
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return Promise.resolve(app.request(`http://127.0.0.1${path}`, { ...init, headers, body }));
  };
}

/** The real app (http → chat → store → llm) on a test database, driven through app.request() without a port. */
export async function createTestApp(db: TestDatabase, env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    DATABASE_DIRECT_URL: db.directUrl,
    ADMIN_TOKEN,
    LOCAL_MODEL_CHUNK_DELAY_MS: '0',
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    ...env,
  });
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const ctx = createChatContext({ config, sql: db.sql, log });
  const stopSweeper = startSweeper(ctx, 200);
  const { app, streams } = createApp({ ctx, adminTokenHash: hashToken(ADMIN_TOKEN) });

  const request = requestVia(app);

  return {
    app,
    ctx,
    streams,
    request,
    async createUser(email = `user-${randomUUID()}@example.com`) {
      const res = await request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email } });
      if (res.status !== 201) throw new Error(`createUser: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { user: { id: string }; token: string };
      return { id: body.user.id, token: body.token };
    },
    async createReport(token, content = SAMPLE_REPORT, title = 'Connection pool incident') {
      const res = await request('/api/reports', { method: 'POST', token, json: { title, content } });
      if (res.status !== 201) throw new Error(`createReport: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async close() {
      stopSweeper();
      await ctx.engine.shutdown();
    },
  };
}

/** An event of an SSE body as sent (`event` absent when the block named no type). */
export type SseEvent = Omit<SseRecord, 'text'>;

/** Reads an SSE body event by event; `stop()` cancels the stream (the client going away). */
export function readSse(res: Response) {
  if (!res.body) throw new Error('response has no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const queue: SseEvent[] = [];
  let done = false;
  async function next(timeoutMs = 20_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = queue.shift();
      if (ev) return ev;
      if (done) return undefined;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('timed out waiting for an SSE event');
      const chunk = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out waiting for an SSE event')), remaining)),
      ]);
      if (chunk.done) done = true;
      else queue.push(...parser.push(chunk.value));
    }
  }
  return {
    next,
    /** Every remaining `data:` payload of a UI message stream, parsed (the final [DONE] kept as the string). */
    async all(timeoutMs = 30_000): Promise<unknown[]> {
      const out: unknown[] = [];
      for (let ev = await next(timeoutMs); ev; ev = await next(timeoutMs)) {
        out.push(ev.data === '[DONE]' ? '[DONE]' : JSON.parse(ev.data));
      }
      return out;
    },
    queue,
    stop: () => reader.cancel(),
  };
}

/** Reads events until `done` says enough (or the stream ends, or `max` events came). */
export async function collectUntil(stream: ReturnType<typeof readSse>, done: (events: SseEvent[]) => boolean, max = 2_000): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for (let i = 0; i < max && !done(events); i++) {
    const ev = await stream.next();
    if (!ev) break;
    events.push(ev);
  }
  return events;
}
