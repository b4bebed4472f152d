import { Agent, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { nowMs } from './stats.js';

export interface TurnTiming {
  /** Epoch ms (sub-ms) when the request was sent, the first text-delta arrived, and the stream ended. */
  start: number;
  firstDelta: number | undefined;
  end: number;
  saved: boolean;
  deltas: number;
  /** The stream's last bytes: what a turn that did not end saved said last (an `error` event, usually). */
  tail: string;
}

const TURN_TIMEOUT_MS = 30_000;
const DELTA = '"type":"text-delta"';
const SAVED = /"type":"data-saved","data":\{"saved":true/;

/** POSTs one turn and reads its UI message stream to the end, noting when the first text-delta arrived. */
export function postTurn(agent: Agent, url: string, body: unknown, headers: Record<string, string> = {}): Promise<TurnTiming> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const start = nowMs();
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        if (res.statusCode !== 200 && res.statusCode !== 201) {
          readAll(res)
            .then((text) => reject(new Error(`turn: HTTP ${res.statusCode} ${text.slice(0, 200)}`)))
            .catch(reject);
          return;
        }
        let firstDelta: number | undefined;
        let tail = '';
        let deltas = 0;
        let savedSeen = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // A marker may straddle two chunks: search the end of the previous one too, but count each once.
          const text = tail + chunk;
          for (let at = text.indexOf(DELTA, Math.max(0, tail.length - DELTA.length + 1)); at >= 0; at = text.indexOf(DELTA, at + 1)) {
            deltas++;
            firstDelta ??= nowMs();
          }
          savedSeen ||= SAVED.test(text);
          tail = text.slice(-200);
        });
        res.on('end', () => resolve({ start, firstDelta, end: nowMs(), saved: savedSeen, deltas, tail }));
        res.on('error', reject);
      },
    );
    req.setTimeout(TURN_TIMEOUT_MS, () => req.destroy(new Error(`turn took more than ${TURN_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A JSON request (setup calls); resolves with the parsed body, rejects on a status other than `expect`. */
export function jsonRequest<T>(method: string, url: string, body: unknown, headers: Record<string, string>, expect = 200): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        readAll(res)
          .then((text) => {
            if (res.statusCode !== expect) reject(new Error(`${method} ${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
            else resolve((text ? JSON.parse(text) : undefined) as T);
          })
          .catch(reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

export interface EventStream {
  /** Every chunk of bytes received (latin1: one character per byte), with its arrival time; parsed later. */
  chunks: { at: number; text: string }[];
  close(): void;
}

/**
 * Opens GET …/events on a raw TCP socket of its own and records what arrives, without an HTTP parser: with a
 * thousand streams in this one process, the client's own cost per chunk is part of every latency it measures, so
 * it is kept to a timestamp and a push. Resolves once the response head and the first bytes have arrived.
 */
export function openEventStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: { at: number; text: string }[] = [];
    const socket = connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const timer = setTimeout(() => socket.destroy(new Error('events stream did not open within 30 s')), 30_000);
    let opened = false;
    socket.on('connect', () => {
      const lines = [`GET ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`, 'Accept: text/event-stream'];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (text: string) => {
      chunks.push({ at: nowMs(), text });
      if (opened) return;
      const head = chunks.map((c) => c.text).join('');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      opened = true;
      if (!/^HTTP\/1\.1 200/.test(head)) {
        socket.destroy();
        reject(new Error(`events: ${head.slice(0, 200)}`));
        return;
      }
      resolve({ chunks, close: () => socket.destroy() });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (!opened) reject(err);
    });
  });
}

/**
 * Decodes a recorded HTTP/1.1 response (chunked or not) incrementally: feed it the chunks in order, as they are
 * taken from a stream, and it returns the body's pieces, each with the arrival time of its bytes.
 */
export function bodyDecoder(): (chunk: { at: number; text: string }) => { at: number; text: string }[] {
  let state: 'head' | 'size' | 'data' | 'crlf' | 'plain' | 'end' = 'head';
  let pending = '';
  let remaining = 0;
  return (chunk) => {
    const out: { at: number; text: string }[] = [];
    let text = pending + chunk.text;
    pending = '';
    while (text.length > 0 && state !== 'end') {
      if (state === 'head') {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          pending = text;
          break;
        }
        state = /\r\ntransfer-encoding:\s*chunked/i.test(text.slice(0, end)) ? 'size' : 'plain';
        text = text.slice(end + 4);
      } else if (state === 'plain') {
        out.push({ at: chunk.at, text });
        text = '';
      } else if (state === 'size') {
        const eol = text.indexOf('\r\n');
        if (eol < 0) {
          pending = text;
          break;
        }
        remaining = parseInt(text.slice(0, eol), 16);
        text = text.slice(eol + 2);
        state = remaining === 0 ? 'end' : 'data';
      } else if (state === 'data') {
        const piece = text.slice(0, remaining);
        out.push({ at: chunk.at, text: piece });
        remaining -= piece.length;
        text = text.slice(piece.length);
        if (remaining === 0) state = 'crlf';
      } else {
        if (text.length < 2) {
          pending = text;
          break;
        }
        text = text.slice(2);
        state = 'size';
      }
    }
    return out;
  };
}
