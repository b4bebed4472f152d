import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdminLink } from '../../../src/chat/admin.js';
import { loadConfig } from '../../../src/config/config.js';
import { createLogger } from '../../../src/log/logger.js';
import { startServer } from '../../../src/server.js';
import { ApiClient } from './api-client.js';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';

/** Every server still running, so that an interrupted run (Ctrl+C) can stop them all. */
const running = new Set<TestServer>();

export function runningServers(): TestServer[] {
  return [...running];
}

export async function closeAllServers(): Promise<void> {
  await Promise.allSettled([...running].map((s) => s.close()));
}

export interface TestServer {
  readonly url: string;
  /** The server's log lines (JSON), for a failing test's report. */
  readonly logs: string[];
  /**
   * A user made by the admin (`POST /api/users`) with a password: `login` signs a person in through the sign-in
   * page, `token` (their first API token) and `api` are for calls outside the browser. The email is made unique
   * unless `email` is given.
   */
  createUser(name: string, options?: { email?: string }): Promise<TestUser>;
  /** A one-time admin page link, as `report-chat admin-link` prints it. */
  adminLink(): Promise<string>;
  close(): Promise<void>;
}

export interface TestUser {
  userId: string;
  email: string;
  password: string;
  /** What the sign-in page takes: email and password. */
  login: { email: string; password: string };
  token: string;
  api: ApiClient;
}

const tempDirs = new Set<string>();
// Whatever ends the process, the run's temp folders go with it (rmSync is allowed in an exit handler).
process.on('exit', () => {
  for (const dir of tempDirs) removeTempDir(dir);
});

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/**
 * A temp folder that the embedded PostgreSQL (run as the `postgres` user when we are root) can reach: mkdtemp makes
 * it 0700, and it is ours, so it is opened to traversal; its parents are never touched.
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * The real server in this process (startServer, as `npm start` runs it), on a free port, with its own data
 * directory, so its embedded PostgreSQL (or `DATABASE_URL`) is its own.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dir = makeTempDir('report-chat-e2e-');
  const logs: string[] = [];
  const log = createLogger({ level: 'info', write: (line) => void logs.push(line.trimEnd()) });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    SEED_DEMO: 'false',
    ADMIN_TOKEN,
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    ...env,
  });
  let server;
  try {
    server = await startServer({ config, log, graceMs: 1_000 });
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
  const live = server;
  let closing: Promise<void> | undefined;
  const testServer: TestServer = {
    url: live.url,
    logs,
    async createUser(name, options = {}) {
      const email = options.email ?? `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
      const password = `pw-${Math.random().toString(36).slice(2)}-${name.length}`;
      const res = await fetch(`${live.url}/api/users`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, name, password }),
      });
      if (res.status !== 201) throw new Error(`POST /api/users answered ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { user: { id: string }; token: string };
      return {
        userId: body.user.id,
        email,
        password,
        login: { email, password },
        token: body.token,
        api: new ApiClient(live.url, body.token),
      };
    },
    async adminLink() {
      return `${live.url}/admin#${(await createAdminLink(live.ctx.sql)).code}`;
    },
    close() {
      return (closing ??= (async () => {
        try {
          await live.close();
        } finally {
          running.delete(testServer);
          removeTempDir(dir);
        }
      })());
    },
  };
  running.add(testServer);
  return testServer;
}
