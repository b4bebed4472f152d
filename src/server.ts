import { join, resolve } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { hashToken, newToken } from './chat/accounts.js';
import type { ChatContext } from './chat/context.js';
import { createChatContext, newInstanceId } from './chat/create-context.js';
import { startSweeper } from './chat/sweeper.js';
import type { TurnEngine } from './chat/turn-engine.js';
import type { Config } from './config/config.js';
import { makeDataDirPrivate } from './data-dir.js';
import { createApp } from './http/app.js';
import type { StreamCounts } from './http/routes/events.js';
import { serveWeb, WEB_ROOT } from './http/web.js';
import type { Logger } from './log/logger.js';
import { readOrCreateSecret } from './secrets-file.js';
import { ensureDemo, type DemoCredentials } from './seed/demo-credentials.js';
import { DEMO_EMAIL } from './seed/seed-demo.js';
import { connectPool, databaseUrls, type Sql } from './store/db.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './store/embedded-postgres.js';
import { runMigrationsDirect } from './store/migrate.js';
import { findFirstReportOwnedBy } from './store/reports.js';

export interface RunningServer {
  url: string;
  ctx: ChatContext;
  /** Stops accepting, lets answers in progress end (saved as interrupted after the grace period), closes all. */
  close(): Promise<void>;
}

export interface ServerOptions {
  config: Config;
  log: Logger;
  /** Called with lines meant for the person at the terminal (URLs, credentials). */
  announce?: (text: string) => void;
  graceMs?: number;
  /** How long a client may take to send a request; HTTP_TIMEOUTS unless given. */
  httpTimeouts?: HttpTimeouts;
}

export interface HttpTimeouts {
  /** To receive a request's headers. */
  headersMs: number;
  /** To receive the whole request, body included. */
  requestMs: number;
}

/**
 * Node's http.Server counts both from the start of a request (of the connection, for its first) and stops counting
 * once the request has been received in full: they bound how slowly a client may send (a slow-loris holding
 * sockets open), never how long a response takes, so an events stream or a long streamed answer is not cut (the
 * socket inactivity timeout, server.timeout, stays 0). A client over either gets 408 and the connection closed.
 * A 2 MiB report upload needs about 35 KB/s to arrive within the minute.
 */
export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 15_000, requestMs: 60_000 };

/** Everything `npm start` runs: database (embedded unless DATABASE_URL), migrations, seed, engine, HTTP. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, log } = options;
  const announce = options.announce ?? (() => {});
  const dataDir = resolve(config.dataDir);
  let embedded: EmbeddedDatabase | undefined;
  let sql: Sql | undefined;
  let ctx: ChatContext | undefined;
  try {
    let url = config.databaseUrl;
    if (!url) {
      embedded = await startEmbeddedPostgres(dataDir, (line) => log.info({}, line));
      url = embedded.url;
      log.info({ port: embedded.port, dataDir }, 'embedded PostgreSQL started');
    } else if (!config.adminToken || config.seedDemo) {
      makeDataDirPrivate(dataDir); // the embedded database's start does it otherwise
    }
    const urls = databaseUrls(url, config.databaseUrl ? config.databaseDirectUrl : undefined);
    const instanceId = newInstanceId();
    sql = connectPool(urls, { applicationName: `report-chat ${instanceId}` });
    await runMigrationsDirect(urls, sql);

    const admin = config.adminToken
      ? { value: config.adminToken, created: false }
      : readOrCreateSecret(join(dataDir, 'admin-token'), newToken);
    if (admin.created) announce(`Admin token (shown once; kept in ${join(dataDir, 'admin-token')}):\n  ${admin.value}`);

    const demo = config.seedDemo ? await ensureDemo(sql, dataDir) : undefined;

    ctx = createChatContext({ config, sql, log, instanceId, databaseUrl: urls.directUrl });
    const { engine, bus } = ctx;
    const stopSweeper = startSweeper(ctx);
    const { app, streams } = createApp({ ctx, adminTokenHash: hashToken(admin.value) });
    serveWeb(app, WEB_ROOT, { serveSourcemaps: config.serveSourcemaps });

    let shuttingDown = false;
    const server = await listen(
      (...args: Parameters<typeof app.fetch>) => (shuttingDown ? shuttingDownResponse() : app.fetch(...args)),
      config.host,
      config.port,
      options.httpTimeouts ?? HTTP_TIMEOUTS,
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const baseUrl = `http://${host}:${port}`;
    log.info({ url: baseUrl, model: engine.modelId, instanceId }, 'report-chat listening');
    announce(welcome(baseUrl, engine.modelId, demo, await findFirstReportOwnedBy(sql, DEMO_EMAIL)));

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        // Stop accepting: no new connections; a request on a kept-alive one gets 503 and `Connection: close`.
        shuttingDown = true;
        const serverClosed = new Promise<void>((done) => server.close(() => done()));
        stopSweeper();
        // Answers in progress get a grace period to finish, their clients still following; the rest are saved as
        // interrupted with their text.
        await waitForIdle(engine, options.graceMs ?? 10_000);
        await engine.shutdown();
        // The answers' streams end on their own; then the event streams close (their clients resume elsewhere with
        // Last-Event-ID), so server.close() can finish.
        await drainConnections(server, streams, 1_000);
        asHttpServer(server).closeAllConnections?.();
        await Promise.race([serverClosed, new Promise((r) => setTimeout(r, 2_000).unref())]);
        // A send whose reserve was still in flight may have started its answer since: it was ended at once, as
        // interrupted; wait until that is saved, before the pool closes.
        await engine.shutdown();
        await bus.close?.();
        await sql?.end({ timeout: 5 });
        // Bounded: embedded-postgres's stop() never resolves when its server already exited (a Ctrl+C in the
        // terminal reaches it too, being in our process group).
        if (embedded) await Promise.race([embedded.stop(), new Promise((r) => setTimeout(r, 5_000).unref())]);
      })());
    return { url: baseUrl, ctx, close };
  } catch (err) {
    await ctx?.bus.close?.().catch(() => {});
    await sql?.end({ timeout: 2 }).catch(() => {});
    await embedded?.stop().catch(() => {});
    throw err;
  }
}

async function waitForIdle(engine: TurnEngine, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (engine.activeCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

type HttpServerLike = {
  closeIdleConnections?: () => void;
  closeAllConnections?: () => void;
  getConnections(cb: (err: Error | null, count: number) => void): void;
};
const asHttpServer = (server: ServerType) => server as unknown as HttpServerLike;

/** Waits (at most maxMs) until only the event streams are left open, closing connections as they go idle. */
async function drainConnections(server: ServerType, streams: StreamCounts, maxMs: number): Promise<void> {
  const s = asHttpServer(server);
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    s.closeIdleConnections?.();
    const open = await new Promise<number>((r) => s.getConnections((err, count) => r(err ? 0 : count)));
    if (open <= streams.open) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function shuttingDownResponse(): Response {
  const body = { error: { code: 'unavailable', message: 'This server is shutting down; nothing was stored. Try again.' } };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '1', Connection: 'close' },
  });
}

function listen(
  fetch: (req: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
  timeouts: HttpTimeouts,
): Promise<ServerType> {
  return new Promise((resolveListen, reject) => {
    const serverOptions = {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      // Node checks the two every 30 s by default, which would let a slow client keep a socket 30 s longer.
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
    };
    const server = serve({ fetch, hostname, port, serverOptions }, () => resolveListen(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${hostname} is already in use: set PORT to a free port`) : err);
    });
  });
}

function welcome(url: string, modelId: string, demo: DemoCredentials | undefined, reportId: string | undefined): string {
  const lines = [`report-chat is running at ${url}  (model: ${modelId})`];
  if (demo?.newPassword) {
    lines.push(
      '',
      `Open ${url} and sign in as ${DEMO_EMAIL} with this password (shown once; kept in ${demo.passwordFile}):`,
      `  ${demo.newPassword}`,
    );
  }
  const demoToken = demo?.token;
  if (demoToken && reportId) {
    lines.push(
      '',
      `The demo user's API token, for scripts (or the sign-in page's "API token" form):`,
      `  ${demoToken}`,
      '',
      'Ask a sample report a question, streamed:',
      `  curl -N ${url}/api/reports/${reportId}/messages \\`,
      `    -H 'Authorization: Bearer ${demoToken}' -H 'Content-Type: application/json' \\`,
      `    -d '{"id":"'$(node -e 'console.log(crypto.randomUUID())')'","content":"What was the root cause, and what should we do first?"}'`,
      '',
      'Then read the stored conversation:',
      `  curl ${url}/api/reports/${reportId}/messages -H 'Authorization: Bearer ${demoToken}'`,
    );
  }
  lines.push('', 'Press Ctrl+C to stop.');
  return lines.join('\n');
}
