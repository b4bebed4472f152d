import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from '../lib/stats.js';
import { encodeStamp } from '../lib/stamps.js';
import { usage, type FromChild, type ToChild } from './protocol.js';

/**
 * The fake model of the streaming suite, in a process of its own so that its work does not count as the server's:
 * an OpenAI-compatible `POST /v1/chat/completions` that streams `chunks` chunks at `pace` a second, as read from
 * the question (`chunks=2400 pace=40`), each chunk's text the moment it was written (bench/lib/stamps.ts), so the
 * client reads each chunk's delivery delay off the text itself. Chunks are scheduled from the answer's start, so a
 * late timer does not slow the pace; how late they were is reported (`model-stats`).
 */
const send = (message: FromChild) => process.send?.(message);
const env = JSON.parse(process.env.BENCH_SERVER_ENV ?? '{}') as Record<string, string>;
const epoch = Number(env.STAMP_EPOCH);
if (!Number.isFinite(epoch)) throw new Error('STAMP_EPOCH is required');

const HEAD = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{"content":"';
const TAIL = '"},"finish_reason":null}]}';
const OPENING = `data: ${HEAD}${TAIL}\n\n`;
const closing = (chunks: number) =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n` +
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":${chunks},"total_tokens":${100 + chunks}}}\n\n` +
  'data: [DONE]\n\n';

// Lateness of each chunk against its schedule, in 0.1 ms buckets up to 10 s.
const lateness = new Uint32Array(100_001);
let sent = 0;
let open = 0;

function stream(res: ServerResponse, chunks: number, pace: number): void {
  const start = nowMs();
  const period = 1000 / pace;
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(OPENING);
  open++;
  const done = () => {
    clearTimeout(timer);
    open--;
  };
  res.once('close', () => {
    if (i < chunks) done();
  });
  const tick = () => {
    const at = nowMs();
    lateness[Math.min(lateness.length - 1, Math.round((at - (start + i * period)) * 10))]!++;
    res.write(`data: ${HEAD}${encodeStamp(at, epoch)}${TAIL}\n\n`);
    sent++;
    i++;
    if (i === chunks) {
      done();
      res.end(closing(chunks));
      return;
    }
    timer = setTimeout(tick, Math.max(0, start + i * period - nowMs()));
  };
  timer = setTimeout(tick, 0);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404).end();
    return;
  }
  const body = Buffer.concat(parts).toString('utf8');
  // The last `chunks=` and `pace=` of the request: the question comes after the report and the history.
  const chunks = Number([...body.matchAll(/chunks=(\d+)/g)].at(-1)?.[1] ?? 20);
  const pace = Number([...body.matchAll(/pace=(\d+(?:\.\d+)?)/g)].at(-1)?.[1] ?? 40);
  stream(res, chunks, pace);
}

/** Nearest-rank percentile of the lateness histogram, in ms. */
function latenessPercentile(p: number): number {
  const total = lateness.reduce((a, b) => a + b, 0);
  if (total === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let b = 0; b < lateness.length; b++) {
    seen += lateness[b]!;
    if (seen >= rank) return b / 10;
  }
  return Number.NaN;
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    process.stderr.write(`paced model failed: ${String(err)}\n`);
    res.destroy();
  });
});
server.keepAliveTimeout = 60_000;

// A bench that dies (or hits its deadline) takes this process with it.
process.once('disconnect', () => process.exit(1));

process.on('message', (raw: ToChild) => {
  if (raw.type === 'usage') send({ type: 'usage', usage: usage() });
  else if (raw.type === 'clock') send({ type: 'clock', at: nowMs() });
  else if (raw.type === 'model-stats') {
    send({ type: 'model-stats', stats: { chunks: sent, open, latenessP99Ms: latenessPercentile(99), latenessMaxMs: latenessPercentile(100) } });
    if (raw.reset) {
      lateness.fill(0);
      sent = 0;
    }
  } else if (raw.type === 'close') {
    server.close();
    server.closeAllConnections();
    send({ type: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }
});

server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, pid: process.pid });
});
