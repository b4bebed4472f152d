import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How a fake model provider answers the next requests. The two fakes share this and the loop that plays it,
 * and differ only in their wire format.
 */
export interface FakeBehavior {
  /** Text pieces to stream; default DEFAULT_CHUNKS. */
  chunks?: string[];
  chunkDelayMs?: number;
  /** Wait before the first text chunk (after the response headers and the provider's opening event). */
  firstChunkDelayMs?: number;
  /** After this many chunks, fail mid-stream: Anthropic sends an `error` event, OpenAI drops the socket. */
  failAfterChunks?: number;
  /** Respond with this HTTP error status before any stream. */
  httpStatus?: number;
  /** After this many chunks, send nothing more but keep the connection open. */
  hangAfterChunks?: number;
  /** Called as the first text chunk is written, for benchmarks timing the first token. */
  onFirstChunk?: () => void;
  /**
   * Instead of `chunks`: the answer as text blocks, read from the request (a citation's offsets depend on the
   * document sent). Each block is one content block on Anthropic's wire, opening with its citations (as the
   * API sends them, before the block's text); on OpenAI's wire, blocks are plain text chunks and `cites` is
   * ignored (a label written in the text is that wire's citation).
   */
  answer?: (request: RecordedRequest) => FakeBlock[];
}

export interface FakeBlock {
  text: string;
  cites?: FakeCitation[];
}

/** Anthropic's `char_location`: a range of the request's document `documentIndex`, and the words there. */
export interface FakeCitation {
  start: number;
  end: number;
  citedText: string;
  documentIndex?: number;
}

export const DEFAULT_CHUNKS = ['The report ', 'says revenue ', 'grew 12% ', 'in the third ', 'quarter.'];

export interface RecordedRequest {
  // Whatever the SDK sent; tests inspect it loosely, as a provider would.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string>;
  /** `performance.timeOrigin + performance.now()` (epoch ms, sub-ms precision) as each text chunk was written. */
  chunkTimes: number[];
}

export interface FakeProviderServer {
  /** `http://127.0.0.1:PORT/v1` */
  baseUrl: string;
  requests: RecordedRequest[];
  setBehavior(b: FakeBehavior): void;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  behavior?: FakeBehavior;
}

/** A provider's streaming wire format: the SSE text for each step of one answer. */
export interface WireFormat {
  /** The request path that streams, e.g. `/v1/messages`. */
  path: string;
  errorBody(status: number): unknown;
  opening(request: RecordedRequest): string;
  /** A text block starts (`index` counts from 0); its citations follow, then its text. */
  blockStart(index: number): string;
  citation(index: number, citation: FakeCitation): string;
  chunk(text: string, request: RecordedRequest, index: number): string;
  blockStop(index: number): string;
  closing(usage: { inputTokens: number; outputTokens: number }, request: RecordedRequest): string;
  /** Fails the stream mid-answer, in whatever way this provider does. */
  fail(res: ServerResponse): void;
}

export async function startFakeProvider(wire: WireFormat, opts: FakeServerOptions = {}): Promise<FakeProviderServer> {
  let behavior: FakeBehavior = opts.behavior ?? {};
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A fake that breaks should fail the test loudly, not hang it.
      console.error('fake provider failed', error);
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (req.method !== 'POST' || req.url !== wire.path) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const request: RecordedRequest = { body: JSON.parse(raw) as unknown, headers: flattenHeaders(req), chunkTimes: [] };
    requests.push(request);
    const b = behavior; // a behaviour change applies to the next request, not one already streaming
    const status = b.httpStatus; // read once: a behaviour may draw a fresh value at every read
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(wire.errorBody(status)));
      return;
    }
    // The client going away stops the pauses at once, so nothing keeps running after a test aborts.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const pause = async (ms: number | undefined) => {
      if (ms) await sleep(ms, undefined, { signal: gone.signal }).catch(() => {});
      return !gone.signal.aborted;
    };

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(wire.opening(request));
    const blocks = b.answer?.(request);
    const chunks = blocks ? blocks.map((block) => block.text) : (b.chunks ?? DEFAULT_CHUNKS);
    let open = -1;
    if (!(await pause(b.firstChunkDelayMs))) return;
    for (let i = 0; i <= chunks.length; i++) {
      if (i > 0 && i < chunks.length && !(await pause(b.chunkDelayMs))) return;
      if (b.hangAfterChunks === i) return; // the response stays open until the client or close() ends it
      if (b.failAfterChunks === i) return wire.fail(res);
      if (i === chunks.length) break;
      // Without blocks the whole answer is one text block, as a model that cites nothing sends it.
      const index = blocks ? i : 0;
      if (open !== index) {
        if (open >= 0) res.write(wire.blockStop(open));
        res.write(wire.blockStart(index));
        for (const citation of blocks?.[i]?.cites ?? []) res.write(wire.citation(index, citation));
        open = index;
      }
      res.write(wire.chunk(chunks[i]!, request, index));
      request.chunkTimes.push(performance.timeOrigin + performance.now());
      if (i === 0) b.onFirstChunk?.();
    }
    if (open >= 0) res.write(wire.blockStop(open));
    res.end(wire.closing({ inputTokens: Math.ceil(raw.length / 4), outputTokens: chunks.length }, request));
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    setBehavior(b) {
      behavior = b;
    },
    async close() {
      // Keep-alive and hung streams would hold server.close() open; tests must end promptly.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export function sse(event: string | undefined, data: unknown): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
