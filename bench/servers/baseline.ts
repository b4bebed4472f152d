import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import postgres from 'postgres';
import { createProfiler } from './profiler.js';
import { OpenAICompatibleChatModel } from '../../src/llm/wire/openai-compatible.js';
import { nowMs } from '../lib/stats.js';
import { collectGarbage, usage, type FromChild, type Published, type ToChild } from './protocol.js';

/**
 * The HTTP baseline: what a turn costs with nothing but node:http and the app's two transactions. It does the same
 * work for the client as the app — commit the user message and the answer placeholder, stream the model's
 * answer as the same UI message stream events, commit the final answer, say saved — and nothing else: no
 * authentication, no access check, no queue, no context history, no metrics or logs.
 *
 *   POST /baseline/:conversationId/messages  {"id": uuid, "content": "..."}
 *
 * It is also the bare fan-out of the fan-out suite: GET /fanout streams, to which an IPC `broadcast` writes given
 * bytes in a plain loop of res.write().
 *
 * SAVE says when it saves an answer, for the streaming suite's comparison designs:
 * - `end` (the default): the question and a placeholder before the model is called, the answer once at the end;
 * - `every-chunk`: the same, and the whole text so far after every chunk, one UPDATE each, in order;
 * - `none`: no database at all, a bare relay of the model's stream (the conversation id in the path is ignored).
 */
const send = (message: FromChild) => process.send?.(message);

interface Row {
  conversation_id: string;
  seq: number;
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: string;
  reply_to: string | null;
  created_at: Date;
  updated_at: Date;
}

const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
const sql = postgres(env.DATABASE_URL!, { max: Number(env.POOL_MAX ?? 20), onnotice: () => {} });
const modelUrl = new URL(`${env.LLM_BASE_URL!}/chat/completions`);
const system = env.SYSTEM_PROMPT ?? 'Answer questions about the report.';
const OWNER = `baseline-${process.pid}`;

const apiMessage = (row: Row) => ({
  id: row.id,
  reportId: row.conversation_id,
  seq: row.seq,
  role: row.role,
  content: row.content,
  status: row.status,
  replyTo: row.reply_to,
  error: null,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

// The same two transactions as the app, through the same SQL functions (src/store/migrations): each one autocommitted
// call, one round trip.
async function reserve(conversationId: string, userId: string, content: string): Promise<[Row, Row]> {
  const rows = await sql<Row[]>`
    SELECT (r.message).conversation_id, (r.message).seq::int AS seq, (r.message).id, (r.message).role, (r.message).content,
           (r.message).status, (r.message).reply_to, (r.message).created_at, (r.message).updated_at
    FROM reserve_turn(${conversationId}, ${userId}, ${randomUUID()}, ${content}, NULL, 100000000, ${OWNER}, 15000, 'bench-model',
                      '{}', '{}', '{}') r`;
  return [rows[0]!, rows[1]!];
}

async function finish(answer: Row, content: string): Promise<Row> {
  const [row] = await sql<Row[]>`
    SELECT conversation_id, seq::int AS seq, id, role, content, status, reply_to, created_at, updated_at
    FROM finish_answer(${answer.conversation_id}, ${answer.seq}, ${OWNER}, 'complete', ${content}, NULL, NULL, NULL, NULL, NULL,
                       '[]'::jsonb, NULL, NULL)`;
  return row!;
}

/** Streams the model's answer (OpenAI chat completions SSE), calling onText for each piece of text. */
function streamModelBare(question: string, onText: (text: string) => void): Promise<void> {
  const body = JSON.stringify({
    model: 'bench-model',
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: question },
    ],
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(modelUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bench' } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let sep = buffer.indexOf('\n\n'); sep >= 0; sep = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
          const text = (JSON.parse(event.slice(6)) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content;
          if (text) onText(text);
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// MODEL_CLIENT=ai-sdk: the same server, but the model is called through the AI SDK's openai-compatible provider
// (`doStream`, fetch, web streams, a zod-validated parse of every chunk), as the app called it until it had a
// client of its own; MODEL_CLIENT=app: through the app's own client (src/llm/wire: node:http, an SSE decoder,
// JSON.parse, one web stream). Either shows what the model client alone costs, apart from everything else the app does.
function modelClient(kind: string | undefined): LanguageModelV3 | undefined {
  if (kind === 'ai-sdk') return createOpenAICompatible({ name: 'bench', baseURL: env.LLM_BASE_URL!, apiKey: 'bench', includeUsage: true }).chatModel('bench-model');
  if (kind === 'app') return new OpenAICompatibleChatModel('bench-model', { baseUrl: env.LLM_BASE_URL!, apiKey: 'bench' });
  return undefined;
}

async function streamModelVia(model: LanguageModelV3, question: string, onText: (text: string) => void): Promise<void> {
  const { stream } = await model.doStream({
    prompt: [
      { role: 'system', content: system },
      { role: 'user', content: [{ type: 'text', text: question }] },
    ],
    includeRawChunks: false,
  });
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value.type === 'text-delta' && value.delta) onText(value.delta);
    else if (value.type === 'error') throw new Error(String(value.error));
  }
}

const clientModel = modelClient(env.MODEL_CLIENT);
const streamModel = clientModel ? (question: string, onText: (text: string) => void) => streamModelVia(clientModel, question, onText) : streamModelBare;

const SAVE = (env.SAVE ?? 'end') as 'end' | 'every-chunk' | 'none';
let saves = 0;

/** SAVE=every-chunk: the whole text so far, as a naive design saves it after each chunk, renewing the lease too. */
async function saveText(answer: Row, text: string): Promise<void> {
  await sql`
    UPDATE messages SET content = ${text}, lease_expires_at = now() + interval '15 s', updated_at = now()
    WHERE conversation_id = ${answer.conversation_id} AND seq = ${answer.seq} AND status = 'streaming' AND lease_owner = ${OWNER}`;
  saves++;
}

async function handle(req: IncomingMessage, res: ServerResponse, conversationId: string): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const input = JSON.parse(Buffer.concat(parts).toString('utf8')) as { id: string; content: string };
  const turn = SAVE === 'none' ? undefined : await reserve(conversationId, input.id, input.content);
  const answerId = turn?.[1].id ?? randomUUID();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-vercel-ai-ui-message-stream': 'v1' });
  const data = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
  data({ type: 'start', messageId: answerId });
  if (turn) data({ type: 'data-turn', data: { userMessage: apiMessage(turn[0]), assistantMessage: apiMessage(turn[1]) } });
  data({ type: 'text-start', id: answerId });
  let text = '';
  let saving = Promise.resolve();
  // Saves still queued when the client has gone are dropped: a step that overran must not keep loading the
  // database during the next one.
  let gone = false;
  res.once('close', () => {
    gone = true;
  });
  await streamModel(input.content, (delta) => {
    text += delta;
    data({ type: 'text-delta', id: answerId, delta });
    if (SAVE === 'every-chunk' && turn) {
      const upTo = text;
      saving = saving.then(() => (gone ? undefined : saveText(turn[1], upTo)));
      // Awaited below; marked handled here so that a failed save does not end the process before then.
      saving.catch(() => {});
    }
  });
  await saving;
  const saved = turn && (await finish(turn[1], text));
  data({ type: 'text-end', id: answerId });
  if (saved) data({ type: 'data-saved', data: { saved: true, message: apiMessage(saved) } });
  data({ type: 'finish' });
  res.end('data: [DONE]\n\n');
}

/** GET /fanout streams, for the bare fan-out baseline: the same bytes as the app's events, written in a loop. */
const fanout = new Set<ServerResponse>();

async function broadcast(events: { key: string; text: string; delayMs: number }[]): Promise<Published[]> {
  const published: Published[] = [];
  for (const event of events) {
    if (event.delayMs > 0) await sleep(event.delayMs);
    published.push({ key: event.key, at: nowMs() });
    for (const res of fanout) res.write(event.text);
  }
  return published;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/fanout') {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' });
    res.write(': connected\n\n');
    fanout.add(res);
    res.on('close', () => fanout.delete(res));
    return;
  }
  const match = /^\/baseline\/([0-9a-f-]{36})\/messages$/.exec(req.url ?? '');
  if (req.method !== 'POST' || !match) {
    res.writeHead(404).end();
    return;
  }
  handle(req, res, match[1]!).catch((err: unknown) => {
    process.stderr.write(`baseline turn failed: ${String(err)}\n`);
    // The bench's client sees why the turn ended unsaved (a call the SQL functions no longer accept, say).
    const error = `data: ${JSON.stringify({ type: 'error', errorText: `baseline turn failed: ${String(err)}` })}\n\n`;
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(error);
  });
});

const profiler = createProfiler();
const reply = (work: Promise<void>) =>
  work.then(
    () => send({ type: 'profiling' }),
    (err: unknown) => send({ type: 'failed', error: String(err) }),
  );

// A bench that dies (or hits its deadline) takes this process with it.
process.once('disconnect', () => process.exit(1));

process.on('message', (raw: ToChild) => {
  if (raw.type === 'usage') {
    if (raw.gc) collectGarbage();
    send({ type: 'usage', usage: { ...usage(), saves } });
  }
  else if (raw.type === 'clock') send({ type: 'clock', at: nowMs() });
  else if (raw.type === 'broadcast') {
    broadcast(raw.events).then(
      (events) => send({ type: 'published', events }),
      (err: unknown) => send({ type: 'failed', error: String(err) }),
    );
  } else if (raw.type === 'profile-start') void reply(profiler.start());
  else if (raw.type === 'profile-stop') void reply(profiler.stop(raw.file));
  else if (raw.type === 'close') {
    server.close();
    server.closeAllConnections();
    sql
      .end({ timeout: 5 })
      .then(() => {
        send({ type: 'closed' });
        setTimeout(() => process.exit(0), 50);
      })
      .catch(() => process.exit(1));
  }
});

server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pid: process.pid });
});
