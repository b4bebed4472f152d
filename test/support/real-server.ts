import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.js';
import type { TestDatabase } from './database.js';
import { ADMIN_TOKEN } from './test-app.js';

export interface RealServer {
  server: RunningServer;
  url: string;
  port: number;
  /** A new user's API token, made through the admin API. */
  createUserToken(email: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The server as `npm start` runs it (startServer, on a real socket), on a test database, with a data folder of its
 * own, no demo data and no turn limits; `env` adds or overrides settings.
 */
export async function startRealServer(
  db: TestDatabase,
  env: Record<string, string> = {},
  options: Pick<ServerOptions, 'httpTimeouts'> = {},
): Promise<RealServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'report-chat-server-'));
  const config = loadConfig({
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    ADMIN_TOKEN,
    SEED_DEMO: 'false',
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    ...env,
  });
  const log = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let server: RunningServer;
  try {
    server = await startServer({ config, log, graceMs: 500, ...options });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    server,
    url: server.url,
    port: Number(new URL(server.url).port),
    async createUserToken(email) {
      const res = await fetch(`${server.url}/api/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      if (res.status !== 201) throw new Error(`creating ${email}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
