import { randomBytes } from 'node:crypto';
import { hashToken } from './chat/accounts.js';
import type { ChatContext } from './chat/context.js';
import { createChatContext } from './chat/create-context.js';
import { startSweeper } from './chat/sweeper.js';
import { loadConfig, type Config } from './config/config.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './log/logger.js';
import { connectPool, databaseUrls } from './store/db.js';
import { runMigrationsDirect } from './store/migrate.js';

export interface ReportChatOptions {
  /** Environment variables as in API.md (DATABASE_URL is required); default process.env. */
  env?: Record<string, string | undefined>;
  /** Where the API is mounted, e.g. `/chat`: requests under it are served, the prefix stripped. Default ''. */
  basePath?: string;
  log?: Logger;
}

export interface ReportChatHandler {
  /** A web-standard handler: Next.js route handlers, Hono, Deno, Bun and any WinterCG server can call it. */
  fetch(request: Request): Promise<Response>;
  /** Ends answers in progress (saved as interrupted), stops the sweeper and closes the database pool. */
  close(): Promise<void>;
  readonly ctx: ChatContext;
  readonly config: Config;
}

/**
 * report-chat as a `fetch(Request) => Response` handler inside another app, on an existing PostgreSQL
 * (`DATABASE_URL`, and `DATABASE_DIRECT_URL` behind a transaction pooler). Applies the migrations (under their advisory lock) before answering.
 */
export async function createReportChat(options: ReportChatOptions = {}): Promise<ReportChatHandler> {
  const config = loadConfig(options.env ?? process.env);
  if (!config.databaseUrl) throw new Error('createReportChat needs DATABASE_URL: the embedded PostgreSQL is for `report-chat serve`.');
  const log = options.log ?? createLogger({ level: (options.env ?? process.env).LOG_LEVEL, base: { service: 'report-chat' } });
  const urls = databaseUrls(config.databaseUrl, config.databaseDirectUrl);
  const sql = connectPool(urls);
  await runMigrationsDirect(urls, sql);
  const ctx = createChatContext({ config, sql, log });
  const stopSweeper = startSweeper(ctx);
  // Without ADMIN_TOKEN the admin route accepts nothing: the host app creates users its own way (or by JWT).
  const adminTokenHash = hashToken(config.adminToken ?? randomBytes(32).toString('hex'));
  const { app } = createApp({ ctx, adminTokenHash });
  const base = (options.basePath ?? '').replace(/\/+$/, '');

  return {
    ctx,
    config,
    async fetch(request) {
      if (!base) return app.fetch(request);
      const url = new URL(request.url);
      if (url.pathname !== base && !url.pathname.startsWith(`${base}/`)) {
        return Response.json({ error: { code: 'not_found', message: 'No such route.' } }, { status: 404 });
      }
      url.pathname = url.pathname.slice(base.length) || '/';
      const init: RequestInit & { duplex?: 'half' } = {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
        duplex: 'half',
      };
      return app.fetch(new Request(url, init));
    },
    async close() {
      stopSweeper();
      await ctx.engine.shutdown();
      await sql.end({ timeout: 5 });
    },
  };
}
