import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/chat/accounts.js';
import type { ChatContext } from '../src/chat/context.js';
import { createChatContext } from '../src/chat/create-context.js';
import type { PgEventBus } from '../src/chat/pg-bus.js';
import { startSweeper } from '../src/chat/sweeper.js';
import { loadConfig } from '../src/config/config.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/log/logger.js';
import { connect, type Sql } from '../src/store/db.js';
import { runMigrations } from '../src/store/migrate.js';
import { ReplicatedPostgres } from './support/replicated-postgres.js';
import { ADMIN_TOKEN, collectUntil, readSse, requestVia, type SseEvent } from './support/test-app.js';

/**
 * One failover under the app, as in production: a primary and a synchronous standby started here from the
 * PostgreSQL 15 binaries, and two instances (each its own pool and listening connection) on the multi-host URL
 * with target_session_attrs=read-write. The primary is SIGKILLed, the standby promoted, the old primary rebuilt as
 * the new standby; the instances are never restarted.
 */
interface Instance {
  ctx: ChatContext;
  sql: Sql;
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let root: string;
let cluster: ReplicatedPostgres;
let a: Instance;
let b: Instance;

function instance(name: string): Instance {
  const config = loadConfig({
    DATABASE_URL: cluster.url,
    ADMIN_TOKEN,
    LOCAL_MODEL_CHUNK_DELAY_MS: '0',
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
  });
  const sql = connect(cluster.url, { max: 6, applicationName: `report-chat-test-${name}` });
  const ctx = createChatContext({ config, sql, log, instanceId: `${name}-${randomUUID().slice(0, 8)}`, databaseUrl: cluster.url });
  const stopSweeper = startSweeper(ctx, 200);
  const { app } = createApp({ ctx, adminTokenHash: hashToken(ADMIN_TOKEN) });
  return {
    ctx,
    sql,
    request: requestVia(app),
    async close() {
      stopSweeper();
      await ctx.engine.shutdown();
      await ctx.bus.close?.();
      await sql.end({ timeout: 5 });
    },
  };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The value, or 'timeout' when it takes longer than `ms` (a hang fails the assertion, not the whole file). */
async function within<T>(ms: number, fn: () => Promise<T>): Promise<T | 'timeout'> {
  return Promise.race([fn(), sleep(ms, 'timeout' as const, { ref: false })]);
}

interface JsonTurn {
  userMessage: { id: string; seq: number };
  assistantMessage: { id: string; seq: number; status: string; content: string };
  saved: boolean;
}

async function sendJson(on: Instance, token: string, reportId: string, content: string): Promise<JsonTurn> {
  const res = await on.request(`/api/reports/${reportId}/messages`, {
    method: 'POST',
    token,
    headers: { accept: 'application/json' },
    json: { id: randomUUID(), content },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as JsonTurn;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'report-chat-failover-'));
  // Ours, so opened to traversal: as root the servers run as `postgres` and must reach their folders here.
  chmodSync(root, 0o755);
  cluster = await ReplicatedPostgres.start(root, { synchronous: true });
  const migrator = connect(cluster.url, { max: 2, applicationName: 'report-chat-test-migrate' });
  await runMigrations(migrator);
  await migrator.end({ timeout: 5 });
  a = instance('a');
  b = instance('b');
  await Promise.all([(a.ctx.bus as PgEventBus).ready, (b.ctx.bus as PgEventBus).ready]);
}, 90_000);

afterAll(async () => {
  await a?.close().catch(() => {});
  await b?.close().catch(() => {});
  await cluster?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
}, 30_000);

describe('failover to a synchronous standby', () => {
  it('keeps every acknowledged turn, and the same instances serve turns on the new primary', async () => {
    const user = await a.request('/api/users', { method: 'POST', token: ADMIN_TOKEN, json: { email: `u-${randomUUID()}@example.com` } });
    const { token } = (await user.json()) as { token: string };
    const created = await a.request('/api/reports', { method: 'POST', token, json: { title: 'Failover', content: '# Cache\n\nThe cache was cold.' } });
    const reportId = ((await created.json()) as { id: string }).id;

    const before = await sendJson(a, token, reportId, 'Before the failover');
    expect(before.saved).toBe(true);
    expect(before.assistantMessage.status).toBe('complete');
    const oldPrimary = cluster.primary.name;

    await cluster.killPrimary();
    // No primary answers: not ready, within the check's own bound (a load balancer's probe gives up after a few
    // seconds), again and again, while the process itself is alive.
    for (let i = 0; i < 3; i++) {
      expect(await within(5_000, async () => (await a.request('/readyz')).status)).toBe(503);
      await sleep(200);
    }
    expect((await a.request('/healthz')).status).toBe(200);

    await cluster.promote();
    expect(cluster.primary.name).not.toBe(oldPrimary);
    await waitFor('/readyz on the new primary', async () => (await a.request('/readyz')).status === 200, 30_000);
    const history = await a.request(`/api/reports/${reportId}/messages`, { token });
    const { messages } = (await history.json()) as { messages: Array<{ id: string; status: string; content: string }> };
    expect(messages.map((m) => m.id)).toEqual([before.userMessage.id, before.assistantMessage.id]);
    expect(messages[1]).toMatchObject({ status: 'complete', content: before.assistantMessage.content });

    // A's listening connection finds the new primary too: it sees B's turn live. Commits wait for the rebuilt
    // standby (the promoted node's synchronous standby), so the turn is sent while the old primary is rebuilt.
    await waitFor("A's listening connection", () => (a.ctx.bus as PgEventBus).listening, 30_000);
    const events = readSse(await a.request(`/api/reports/${reportId}/events?after=0`, { token }));
    const rebuilt = cluster.rebuildStandby();
    const after = await sendJson(b, token, reportId, 'After the failover');
    await rebuilt;
    expect(after.saved).toBe(true);
    expect(after.userMessage.seq).toBe(3);
    const seen = await collectUntil(events, (evs: SseEvent[]) =>
      evs.some((e) => e.event === 'message' && (JSON.parse(e.data) as { id: string; status: string }).id === after.assistantMessage.id && JSON.parse(e.data).status === 'complete'),
    );
    await events.stop();
    expect(seen.some((e) => e.event === 'message' && (JSON.parse(e.data) as { id: string }).id === after.userMessage.id)).toBe(true);

    // And A itself serves a turn on the new primary.
    const again = await sendJson(a, token, reportId, 'Still there?');
    expect(again.saved).toBe(true);
    expect(again.userMessage.seq).toBe(5);

    // An instance started now (a restart, a scale-up) tries the old primary first: it is the first host of the URL
    // and a standby now. It must go on to the primary, for its pool and its listening connection alike.
    const c = instance('c');
    try {
      await within(20_000, () => (c.ctx.bus as PgEventBus).ready);
      const fresh = await sendJson(c, token, reportId, 'From a new instance');
      expect(fresh.saved).toBe(true);
      expect(fresh.userMessage.seq).toBe(7);
    } finally {
      await c.close();
    }
  }, 120_000);
});
