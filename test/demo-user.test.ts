import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithToken } from '../src/chat/accounts.js';
import { hashPassword } from '../src/chat/passwords.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log/logger.js';
import { DEMO_EMAIL } from '../src/seed/seed-demo.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** The demo user that `npm start` seeds: its password is generated, kept beside its token, and shown once. */

const OLD_PASSWORD = 'demo-password';
let dir: string;
const databases: TestDatabase[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-chat-demo-'));
});
afterAll(async () => {
  for (const db of databases) await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** startServer as `npm start` runs it, with SEED_DEMO, on a test database; what it printed. */
async function serve(db: TestDatabase, dataDir: string): Promise<{ server: RunningServer; printed: string }> {
  const config = loadConfig({ DATABASE_URL: db.url, SEED_DEMO: 'true', DATA_DIR: dataDir, PORT: '0', LOCAL_MODEL_CHUNK_DELAY_MS: '0' });
  const lines: string[] = [];
  const server = await startServer({ config, log: createLogger({ level: 'silent' }), announce: (text) => lines.push(text), graceMs: 0 });
  return { server, printed: lines.join('\n') };
}

async function signIn(server: RunningServer, password: string): Promise<number> {
  const res = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: DEMO_EMAIL, password }),
  });
  await res.body?.cancel();
  return res.status;
}

describe('the demo user', () => {
  it('gets a generated password, kept 0600 beside its token and shown once; the old fixed password is refused', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    const dataDir = join(dir, 'fresh');

    const first = await serve(db, dataDir);
    let password: string;
    try {
      expect(await signIn(first.server, OLD_PASSWORD)).toBe(401);
      password = readFileSync(join(dataDir, 'demo-password'), 'utf8').trim();
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(statSync(join(dataDir, 'demo-password')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'demo-token')).mode & 0o777).toBe(0o600);
      expect(first.printed).toContain(password);
      expect(first.printed).toContain(readFileSync(join(dataDir, 'demo-token'), 'utf8').trim());
      expect(await signIn(first.server, password)).toBe(204);
    } finally {
      await first.server.close();
    }

    const second = await serve(db, dataDir);
    try {
      expect(second.printed).not.toContain(password);
      expect(await signIn(second.server, password)).toBe(204);
    } finally {
      await second.server.close();
    }
  });

  it('made by an older version with the fixed password: moved to a generated one at the next start', async () => {
    const db = await createTestDatabase();
    databases.push(db);
    await createUserWithToken(db.sql, { email: DEMO_EMAIL, name: 'Demo user', passwordHash: await hashPassword(OLD_PASSWORD) });
    const dataDir = join(dir, 'upgraded');

    const { server, printed } = await serve(db, dataDir);
    try {
      expect(await signIn(server, OLD_PASSWORD)).toBe(401);
      const password = readFileSync(join(dataDir, 'demo-password'), 'utf8').trim();
      expect(printed).toContain(password);
      expect(await signIn(server, password)).toBe(204);
    } finally {
      await server.close();
    }
  });
});
