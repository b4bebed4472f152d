import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runningEmbeddedUrl } from '../src/store/embedded-postgres.js';
import { readSse } from './support/test-app.js';

/**
 * `report-chat serve` on its embedded PostgreSQL, stopped the way a person stops it: Ctrl+C in a terminal, which
 * sends SIGINT to every process of the foreground group. The answer in progress must still be saved, which needs
 * the database to outlive the HTTP server's drain.
 */

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-chat-shutdown-'));
  chmodSync(dir, 0o755); // the embedded server runs as the postgres user when we are root
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Serve {
  child: ChildProcess;
  base: string;
  exited: Promise<number | null>;
}

async function serve(port: number): Promise<Serve> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
    LOCAL_MODEL_CHUNK_DELAY_MS: '30',
  };
  delete env.DATABASE_URL;
  // Its own process group, as a shell gives a foreground job: the test signals the whole group, as a terminal does.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited during start (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { child, base, exited };
    await sleep(250);
  }
  throw new Error(`serve did not answer within 60 s: ${stderr}`);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Ctrl+C on `report-chat serve` with the embedded database', () => {
  it('lets the answer in progress finish and be saved before PostgreSQL stops, and exits 0', async () => {
    const port = await freePort();
    const first = await serve(port);
    const token = readFileSync(join(dir, 'data', 'demo-token'), 'utf8').trim();
    const auth = { authorization: `Bearer ${token}` };
    const { reports } = (await (await fetch(`${first.base}/api/reports`, { headers: auth })).json()) as { reports: { id: string }[] };
    const reportId = reports[0]!.id;

    const res = await fetch(`${first.base}/api/reports/${reportId}/messages`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: crypto.randomUUID(), content: 'What are the main findings of this report?' }),
    });
    expect(res.status).toBe(200);
    const sse = readSse(res);
    const events: { type: string; delta?: string; data?: { saved: boolean; message: { content: string; status: string } } }[] = [];
    for (;;) {
      const ev = await sse.next();
      if (!ev) throw new Error('the stream ended before any text');
      const parsed = JSON.parse(ev.data) as (typeof events)[number];
      events.push(parsed);
      if (parsed.type === 'text-delta') break;
    }

    process.kill(-first.child.pid!, 'SIGINT'); // the whole group: the server, and PostgreSQL if it were in it
    for (const ev of await sse.all()) if (ev !== '[DONE]') events.push(ev as (typeof events)[number]);
    expect(await withTimeout(first.exited, 60_000, 'serve to exit after SIGINT')).toBe(0);
    expect(runningEmbeddedUrl(join(dir, 'data'))).toBeUndefined();

    const saved = events.find((e) => e.type === 'data-saved')?.data;
    expect(saved?.saved).toBe(true);
    const streamed = events.filter((e) => e.type === 'text-delta').map((e) => e.delta).join('');
    expect(streamed.length).toBeGreaterThan(0);
    expect(saved!.message.content).toBe(streamed);
    expect(['complete', 'interrupted']).toContain(saved!.message.status);

    // Started again on the same data: the answer is there, as it was told.
    const second = await serve(port);
    const history = (await (await fetch(`${second.base}/api/reports/${reportId}/messages`, { headers: auth })).json()) as {
      messages: { role: string; content: string; status: string }[];
    };
    expect(history.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(history.messages[1]).toMatchObject({ content: streamed, status: saved!.message.status });
    process.kill(-second.child.pid!, 'SIGTERM');
    expect(await withTimeout(second.exited, 60_000, 'serve to exit after SIGTERM')).toBe(0);
    expect(runningEmbeddedUrl(join(dir, 'data'))).toBeUndefined();
  }, 180_000);
});
