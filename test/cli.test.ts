import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestApp, readSse, SAMPLE_REPORT, type TestApp } from './support/test-app.js';

const run = promisify(execFile);
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'report-chat-cli-'));
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(process.execPath, ['bin/report-chat.js', ...args], {
    env: { ...process.env, DATABASE_URL: db.url, DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the report-chat command', () => {
  it('creates a user, imports a report, lists and exports it, with meaningful exit codes', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['serve', 'migrate', 'users', 'tokens', 'reports', 'export']) expect(help.stdout).toContain(command);

    expect((await cli(['migrate', '--json'])).stdout).toContain('"migrated": true');

    const created = await cli(['users', 'create', '--email', 'cli-user@example.com', '--name', 'CLI', '--password-stdin', '--json'], 'a good long password\n');
    expect(created.code).toBe(0);
    const { user, token } = JSON.parse(created.stdout) as { user: { id: string }; token: string };
    expect(token).toMatch(/^rc_[A-Za-z0-9_-]{43}$/);
    expect((await cli(['users', 'create', '--email', 'cli-user@example.com'])).code).toBe(1);

    const tokenOut = JSON.parse((await cli(['tokens', 'create', '--email', 'cli-user@example.com', '--name', 'ci', '--json'])).stdout) as { token: string };
    expect(tokenOut.token).toMatch(/^rc_/);

    const file = join(dir, 'incident.md');
    writeFileSync(file, SAMPLE_REPORT);
    const imported = await cli(['reports', 'import', file, '--owner', 'cli-user@example.com', '--json']);
    expect(imported.code).toBe(0);
    const report = JSON.parse(imported.stdout) as { id: string; title: string };
    expect(report.title).toBe('Connection pool incident'); // from the first heading

    const listed = JSON.parse((await cli(['reports', 'list', '--owner', 'cli-user@example.com', '--json'])).stdout) as { reports: Array<{ id: string }> };
    expect(listed.reports.map((r) => r.id)).toEqual([report.id]);

    expect((await cli(['reports', 'list', '--owner', 'nobody@example.com'])).code).toBe(4);
    expect((await cli(['reports', 'import', join(dir, 'missing.md'), '--owner', 'cli-user@example.com'])).code).toBe(4);
    expect((await cli(['export', report.id, '--format', 'pdf'])).code).toBe(2);
    expect((await cli(['no-such-command'])).code).toBe(2);

    // The imported report answers a streamed question through the API, on the same database.
    const app: TestApp = await createTestApp(db);
    try {
      const res = await app.request(`/api/reports/${report.id}/messages`, { method: 'POST', token, json: { content: 'What was the root cause?' } });
      const events = (await readSse(res).all()) as Array<{ type: string; delta?: string; data?: { saved: boolean } }>;
      expect(events.find((e) => e.type === 'data-saved')?.data?.saved).toBe(true);
      expect(events.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('')).toContain('payment provider');
    } finally {
      await app.close();
    }

    const exported = await cli(['export', report.id, '--format', 'json']);
    expect(exported.code).toBe(0);
    const body = JSON.parse(exported.stdout) as { messages: Array<{ seq: number; role: string }> };
    expect(body.messages.map((m) => [m.seq, m.role])).toEqual([
      [1, 'user'],
      [2, 'assistant'],
    ]);
    const markdown = await cli(['export', report.id]);
    expect(markdown.stdout).toContain('What was the root cause?');
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
