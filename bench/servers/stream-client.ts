import { connect } from 'node:net';
import { bodyDecoder } from '../lib/http-client.js';
import { nowMs } from '../lib/stats.js';
import { decodeStamp, STAMP_CHARS } from '../lib/stamps.js';
import type { FromChild, StreamResult, StreamRun, ToChild } from './protocol.js';

/**
 * The streaming suite's load generator, in a process of its own so that its work does not count as the server's:
 * it POSTs each answer on a raw socket of its own (no HTTP client: a timestamp, a scan for the deltas and a
 * histogram per chunk), reads the stamps (bench/lib/stamps.ts) in the text deltas of the UI message stream, and
 * counts each chunk's delay from the fake model's write to its arrival here, in 10 µs buckets up to 10 s.
 */
const send = (message: FromChild) => process.send?.(message);

const BUCKETS_PER_MS = 100;
const DELTA = '"type":"text-delta"';
const DELTA_TEXT = '"delta":"';
const SAVED = /"type":"data-saved","data":\{"saved":true/;

class Histogram {
  readonly counts = new Uint32Array(10_000 * BUCKETS_PER_MS + 1);
  n = 0;
  add(ms: number): void {
    this.counts[Math.min(this.counts.length - 1, Math.max(0, Math.round(ms * BUCKETS_PER_MS)))]!++;
    this.n++;
  }
  percentile(p: number): number {
    if (this.n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return b / BUCKETS_PER_MS;
    }
    return Number.NaN;
  }
}

interface Tally {
  delays: Histogram;
  excluded: number;
}

/** One answer: resolves with undefined when it was delivered whole (and saved, when that is required), else why not. */
function runAnswer(answer: StreamRun['answers'][number], run: StreamRun, tally: Tally): Promise<string | undefined> {
  const target = new URL(answer.url);
  return new Promise((resolve) => {
    const socket = connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    const decode = bodyDecoder();
    let status: number | undefined;
    let events = '';
    let text = '';
    let used = 0;
    let stamps = 0;
    let saved = false;
    let error: string | undefined;
    let settled = false;
    const finish = (why: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => finish(`timed out after ${run.timeoutMs} ms with ${stamps} of ${run.chunks} chunks`), run.timeoutMs);
    socket.on('connect', () => {
      const head = [
        `POST ${target.pathname}${target.search} HTTP/1.1`,
        `Host: ${target.host}`,
        'Content-Type: application/json',
        'Accept: text/event-stream',
        `Content-Length: ${Buffer.byteLength(answer.body)}`,
        'Connection: close',
        ...Object.entries(answer.headers).map(([name, value]) => `${name}: ${value}`),
      ];
      socket.write(`${head.join('\r\n')}\r\n\r\n${answer.body}`);
    });
    socket.on('data', (chunk: string) => {
      const at = nowMs();
      status ??= Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk)?.[1] ?? 0);
      for (const piece of decode({ at, text: chunk })) {
        events += piece.text;
        for (let end = events.indexOf('\n\n'); end >= 0; end = events.indexOf('\n\n')) {
          const event = events.slice(0, end);
          events = events.slice(end + 2);
          if (event.includes(DELTA)) {
            const from = event.indexOf(DELTA_TEXT) + DELTA_TEXT.length;
            text += event.slice(from, event.indexOf('"', from));
            // A server may merge or split deltas: the stamps are read off the text, six characters each.
            for (; used + STAMP_CHARS <= text.length; used += STAMP_CHARS) {
              const sentAt = decodeStamp(text, used, run.epoch);
              stamps++;
              if (run.exclude && sentAt >= run.exclude.from && sentAt <= run.exclude.to) tally.excluded++;
              else tally.delays.add(at - sentAt);
            }
            if (used > 4 * STAMP_CHARS) {
              text = text.slice(used);
              used = 0;
            }
          } else if (SAVED.test(event)) saved = true;
          else if (event.includes('"type":"error"')) error ??= event.slice(0, 200);
        }
      }
    });
    socket.on('error', (err) => finish(`socket: ${err.message}`));
    socket.on('close', () => {
      if (status !== 200) finish(`HTTP ${status ?? 'no response'}`);
      else if (error) finish(`error event: ${error}`);
      else if (stamps !== run.chunks) finish(`${stamps} of ${run.chunks} chunks`);
      else if (run.requireSaved && !saved) finish('the answer ended without saved: true');
      else finish(undefined);
    });
  });
}

async function runAll(run: StreamRun): Promise<StreamResult> {
  const tally: Tally = { delays: new Histogram(), excluded: 0 };
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const firstErrors: string[] = [];
  let failures = 0;
  const n = run.answers.length;
  await Promise.all(
    run.answers.map(async (answer, i) => {
      const delay = (i * run.staggerMs) / n - (nowMs() - t0);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const why = await runAnswer(answer, run, tally);
      if (why === undefined) return;
      failures++;
      if (firstErrors.length < 3) firstErrors.push(why);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const d = tally.delays;
  return {
    answers: n,
    ok: n - failures,
    failures,
    firstErrors,
    delays: { n: d.n, p50: d.percentile(50), p95: d.percentile(95), p99: d.percentile(99), max: d.percentile(100) },
    excluded: tally.excluded,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: nowMs() - t0,
  };
}

// A bench that dies (or hits its deadline) takes this process with it.
process.once('disconnect', () => process.exit(1));

process.on('message', (raw: ToChild) => {
  if (raw.type === 'stream-run') {
    runAll(raw.run).then(
      (result) => send({ type: 'stream-result', result }),
      (err: unknown) => send({ type: 'failed', error: String(err) }),
    );
  } else if (raw.type === 'clock') send({ type: 'clock', at: nowMs() });
  else if (raw.type === 'close') {
    send({ type: 'closed' });
    setTimeout(() => process.exit(0), 50);
  }
});

send({ type: 'ready', url: '', pid: process.pid });
