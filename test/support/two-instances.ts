import { randomUUID } from 'node:crypto';
import { hashToken } from '../../src/chat/accounts.js';
import { createChatContext } from '../../src/chat/create-context.js';
import { loadConfig } from '../../src/config/config.js';
import { createApp } from '../../src/http/app.js';
import type { StreamCounts } from '../../src/http/routes/events.js';
import { createLogger } from '../../src/log/logger.js';
import type { TestDatabase } from './database.js';
import { ADMIN_TOKEN, requestVia, type TestApp } from './test-app.js';

export interface Instance {
  ctx: ReturnType<typeof createChatContext>;
  streams: StreamCounts;
  request: TestApp['request'];
}

/**
 * Two instances of the app on one database, each with its PostgreSQL event bus, and an access check of an hour: a
 * stream that ends within seconds on the other instance was ended by an event. Ready when returned; `stop()` ends both.
 */
export async function startTwoInstances(db: TestDatabase, env: Record<string, string> = {}) {
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const start = (name: string): Instance => {
    const config = loadConfig({
      DATABASE_URL: db.url,
      ADMIN_TOKEN,
      LOCAL_MODEL_CHUNK_DELAY_MS: '0',
      RATE_LIMIT_PER_HOUR: '0',
      RATE_LIMIT_PER_DAY: '0',
      ...env,
    });
    const ctx = createChatContext({ config, sql: db.sql, log, instanceId: `${name}-${randomUUID().slice(0, 8)}`, databaseUrl: db.url, tuning: { accessCheckMs: 3_600_000 } });
    const { app, streams } = createApp({ ctx, adminTokenHash: hashToken(ADMIN_TOKEN) });
    return { ctx, streams, request: requestVia(app) };
  };
  const a = start('a');
  const b = start('b');
  await Promise.all([a.ctx.bus, b.ctx.bus].map((bus) => (bus as unknown as { ready: Promise<void> }).ready));
  return {
    a,
    b,
    async stop() {
      for (const i of [a, b]) {
        await i.ctx.engine.shutdown();
        await i.ctx.bus.close?.();
      }
    },
  };
}
