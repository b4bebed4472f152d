import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startRealServer, type RealServer } from './support/real-server.js';

// The body limits over a real socket, as clients send bodies: with a Content-Length, or chunked with none (which
// app.request() cannot show: a Request built in the process carries neither header).

let db: TestDatabase;
let server: RealServer;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startRealServer(db);
  token = await server.createUserToken('limits@example.com');
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/** POSTs `body` in 16 KiB writes: chunked unless `declareLength`. Resolves with the status and the parsed answer. */
function post(path: string, body: string, declareLength: boolean): Promise<{ status: number; json: unknown; chunked: boolean }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    if (declareLength) headers['content-length'] = String(Buffer.byteLength(body));
    const req = httpRequest(`${server.url}${path}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, chunked: !declareLength }));
    });
    // The server may answer 413 and close before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.slice(at, at + 16 * 1024));
    req.end();
  });
}

const get = async (path: string) => (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();

describe('request body limits, over a real socket', () => {
  it('refuses a report body over 2 MiB + 64 KiB, chunked or declared, and creates nothing; takes one under it', async () => {
    // A valid report with a field no schema reads: only the byte limit refuses it.
    const huge = JSON.stringify({ title: 'Huge', content: '# Huge\n\nText.', padding: 'x'.repeat(2 * 1024 * 1024 + 70 * 1024) });
    for (const declareLength of [false, true]) {
      const answer = await post('/api/reports', huge, declareLength);
      expect(answer, `declared length: ${declareLength}`).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
    }
    expect(((await get('/api/reports')) as { reports: unknown[] }).reports).toHaveLength(0);

    const fine = await post('/api/reports', JSON.stringify({ title: 'Fine', content: `# Fine\n\n${'A line. '.repeat(20_000)}` }), false);
    expect(fine.status).toBe(201);
    expect(((await get('/api/reports')) as { reports: unknown[] }).reports).toHaveLength(1);
  });

  it('refuses any other body over 64 KiB, chunked or declared, and changes nothing', async () => {
    const created = await post('/api/reports', JSON.stringify({ title: 'Small', content: '# Small\n\nText.' }), true);
    const { id } = created.json as { id: string };
    const big = JSON.stringify({ content: 'A question.', padding: 'y'.repeat(70 * 1024) });
    for (const declareLength of [false, true]) {
      const answer = await post(`/api/reports/${id}/messages`, big, declareLength);
      expect(answer, `declared length: ${declareLength}`).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
    }
    expect(((await get(`/api/reports/${id}/messages`)) as { messages: unknown[] }).messages).toHaveLength(0);
  });
});
