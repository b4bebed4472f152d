import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Op, Outcome, ReadMessage, ReadOp, SendOp, StopOp, SubscriberMessage, SubscriberRecord } from './checker.js';
import { pick, randInt, type Instance, type Random } from './cluster.js';
import { deadlineSignal, describeError, readSse, wasRefused, type SseEvent } from './http.js';

/** Every operation with its start, end and outcome, on one monotonic clock (ms since the run began). */
export class Recorder {
  private readonly t0 = performance.now();
  private next = 1;
  readonly ops: Op[] = [];
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }
  opId(): number {
    return this.next++;
  }
  add<T extends Op>(op: T): T {
    this.ops.push(op);
    return op;
  }
}

export interface ReportRef {
  id: string;
  token: string;
  /** The id of its main conversation (its version 1 routes, under the report, mean that one). */
  mainConversation: string;
}

/** A conversation the tabs talk to, and the path its routes hang from. */
export interface Target {
  report: ReportRef;
  conversation: string;
  path: string;
}

export const mainTarget = (report: ReportRef): Target => ({ report, conversation: report.mainConversation, path: `/api/reports/${report.id}` });
export const conversationTarget = (report: ReportRef, id: string): Target => ({ report, conversation: id, path: `/api/conversations/${id}` });

export interface World {
  rec: Recorder;
  random: Random;
  instances: Instance[];
  /** Set when the run's time is up: tabs finish what they are doing and stop. */
  stopping: boolean;
  /** `--via nginx|haproxy`: every request goes to this proxy, which picks the instance. */
  via?: string;
  /** Every conversation known so far: the reports' main ones, then the forks as they are created. */
  targets: Target[];
  /** Every events subscriber, those the forkers start on their forks included. */
  subscribers: Subscriber[];
}

/** Where a request meant for `inst` goes: the proxy in front of the instances when there is one. */
export const baseUrl = (world: World, inst: Instance): string => world.via ?? inst.url;

/** What every recorded operation of a tab starts with: its id, tab, conversation, instance and start; no outcome yet. */
export function opStart(world: World, tab: string, target: { report: ReportRef; conversation: string }, inst: Instance) {
  const { rec } = world;
  return {
    op: rec.opId(),
    tab,
    report: target.report.id,
    conversation: target.conversation,
    instance: inst.index,
    start: rec.now(),
    end: 0,
    outcome: 'unknown' as Outcome,
  };
}

type Recorded = { status?: number; error?: string; outcome: Outcome; end: number };

/**
 * One request of a recorded operation, with its status: on a 2xx `onOk` reads the answer and the outcome is ok; a 4xx
 * or a 503 refused it (API.md: nothing was stored), and so did a refused connection (it reached no server); anything
 * else may or may not have happened.
 */
export async function recordCall<T extends Recorded>(
  world: World,
  op: T,
  timeoutMs: number,
  request: (signal: AbortSignal) => Promise<Response>,
  onOk: (res: Response) => Promise<void>,
): Promise<T> {
  const deadline = deadlineSignal(timeoutMs);
  try {
    const res = await request(deadline.signal);
    op.status = res.status;
    if (res.ok) {
      await onOk(res);
      op.outcome = 'ok';
    } else {
      op.error = errorCode(await res.text().catch(() => ''));
      op.outcome = res.status < 500 || res.status === 503 ? 'failed' : 'unknown';
    }
  } catch (err) {
    op.error = describeError(err);
    op.outcome = wasRefused(err) ? 'failed' : 'unknown';
  } finally {
    op.end = world.rec.now();
    deadline.dispose();
  }
  return op;
}

const SEND_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const READ_TIMEOUT_MS = 20_000;
export const TERMINAL = new Set(['complete', 'failed', 'stopped', 'interrupted']);

/** Like a load balancer: a running instance almost always; now and then any, dead or frozen ones included. */
export function pickInstance(world: World, not?: Instance): Instance {
  const candidates = world.instances.filter((i) => i !== not || world.instances.length === 1);
  const up = candidates.filter((i) => i.state === 'up');
  if (up.length > 0 && world.random() < 0.92) return pick(world.random, up);
  return pick(world.random, candidates);
}

export interface ApiMessage {
  id: string;
  seq: number;
  role: 'user' | 'assistant';
  status: string;
  content: string;
  copiedFrom?: string | null;
}

type StreamEvent =
  | { type: 'data-turn'; data: { userMessage: ApiMessage; assistantMessage: ApiMessage } }
  | { type: 'text-delta'; delta: string }
  | { type: 'data-saved'; data: { saved: boolean; message: ApiMessage } }
  | { type: 'start' | 'text-start' | 'text-end' | 'error' | 'finish' };

export interface SendParams {
  tab: string;
  target: Target;
  messageId: string;
  content: string;
  mode: 'stream' | 'json';
  purpose: SendOp['purpose'];
  instance?: Instance;
  /** After the acknowledgement: return 'disconnect' to close the stream at once. */
  onAck?: (op: SendOp) => 'disconnect' | void;
  /** After each text-delta, with the count so far: return 'disconnect' to close the stream. */
  onDelta?: (count: number, op: SendOp) => 'disconnect' | void;
}

/** POST …/messages, recorded: acknowledged when the turn comes back (data-turn, or the JSON body). */
export async function send(world: World, p: SendParams): Promise<SendOp> {
  const { rec } = world;
  const inst = p.instance ?? pickInstance(world);
  const op = rec.add<SendOp>({
    type: 'send',
    ...opStart(world, p.tab, p.target, inst),
    messageId: p.messageId,
    content: p.content,
    mode: p.mode,
    purpose: p.purpose,
  });
  const started = performance.now();
  const deadline = deadlineSignal(SEND_TIMEOUT_MS);
  const acknowledge = (turn: { userMessage: ApiMessage; assistantMessage: ApiMessage }) => {
    op.outcome = 'ok';
    op.ackAt = rec.now();
    op.userSeq = turn.userMessage.seq;
    op.assistantId = turn.assistantMessage.id;
    op.assistantSeq = turn.assistantMessage.seq;
  };
  try {
    const res = await fetch(`${baseUrl(world, inst)}${p.target.path}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${p.target.report.token}`,
        'content-type': 'application/json',
        accept: p.mode === 'json' ? 'application/json' : 'text/event-stream',
      },
      body: JSON.stringify({ id: p.messageId, content: p.content }),
      signal: deadline.signal,
    });
    op.status = res.status;
    if (res.status >= 400) {
      op.error = errorCode(await res.text().catch(() => ''));
      // API.md: 4xx refuses the request, 503 says nothing was stored. Anything else might have been.
      op.outcome = res.status < 500 || res.status === 503 ? 'failed' : 'unknown';
      return op;
    }
    op.replayed = res.headers.get('idempotent-replayed') === 'true';
    if (p.mode === 'json') {
      const body = (await res.json()) as { userMessage: ApiMessage; assistantMessage: ApiMessage; saved: boolean };
      acknowledge(body);
      op.saved = body.saved;
      if (body.saved) {
        op.savedStatus = body.assistantMessage.status;
        op.savedContent = body.assistantMessage.content;
      }
      return op;
    }
    let streamed = '';
    let deltas = 0;
    for await (const ev of readSse(res.body!)) {
      if (ev.data === '[DONE]') break;
      const e = JSON.parse(ev.data) as StreamEvent;
      if (e.type === 'data-turn') {
        acknowledge(e.data);
        if (p.onAck?.(op) === 'disconnect') return disconnect(op, deadline);
      } else if (e.type === 'text-delta') {
        if (deltas === 0) op.firstTokenMs = Math.round(performance.now() - started);
        deltas++;
        streamed += e.delta;
        if (p.onDelta?.(deltas, op) === 'disconnect') return disconnect(op, deadline);
      } else if (e.type === 'data-saved') {
        op.saved = e.data.saved;
        op.savedStatus = e.data.message.status;
        op.savedContent = e.data.message.content;
        op.streamed = streamed;
      }
    }
    if (op.outcome !== 'ok') op.error = 'the stream ended before the turn was acknowledged';
  } catch (err) {
    if (!op.disconnected) {
      op.error = describeError(err);
      if (op.outcome !== 'ok') op.outcome = wasRefused(err) ? 'failed' : 'unknown';
    }
  } finally {
    op.end = rec.now();
    deadline.dispose();
  }
  return op;
}

function disconnect(op: SendOp, deadline: ReturnType<typeof deadlineSignal>): SendOp {
  op.disconnected = true;
  deadline.abort(new Error('the tab went away'));
  return op;
}

export function errorCode(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? body.slice(0, 80);
  } catch {
    return body.slice(0, 80);
  }
}

/** POST …/messages/:id/stop, recorded with the answer's status as the server reported it. */
export async function stopAnswer(world: World, tab: string, target: Target, assistantId: string): Promise<StopOp> {
  const inst = pickInstance(world);
  const op = world.rec.add<StopOp>({ type: 'stop', ...opStart(world, tab, target, inst), assistantId });
  return recordCall(
    world,
    op,
    STOP_TIMEOUT_MS,
    (signal) =>
      fetch(`${baseUrl(world, inst)}${target.path}/messages/${assistantId}/stop`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.report.token}` },
        signal,
      }),
    async (res) => {
      const { message } = (await res.json()) as { message: ApiMessage };
      op.resultStatus = message.status;
      op.resultContent = message.content;
    },
  );
}

/**
 * A tab that chats: sends with fresh ids, follows the answer, and now and then closes the tab mid-answer, presses
 * stop, re-sends an id (at once from a second tab, mid-answer, after the answer), or retries a send whose outcome it
 * could not know.
 */
export async function writerTab(world: World, tab: string, target: Target): Promise<void> {
  for (let n = 1; !world.stopping; n++) {
    await writeTurn(world, tab, target, n);
    await sleep(randInt(world.random, 0, 250));
  }
}

/** One turn of a writer: its `n`th message, sent in one of the ways a tab may send it. */
export async function writeTurn(world: World, tab: string, target: Target, n: number): Promise<void> {
  const { random } = world;
  const messageId = randomUUID();
  const content = `${tab} #${n} (${messageId.slice(0, 8)}): what does the report say about the cache?`;
  const base = { tab, target, messageId, content };
  const roll = random();
  const pending: Array<Promise<unknown>> = [];
  let ops: SendOp[];
  if (roll < 0.48) {
    ops = [await send(world, { ...base, mode: 'stream', purpose: 'fresh' })];
  } else if (roll < 0.56) {
    ops = [await send(world, { ...base, mode: 'json', purpose: 'fresh' })];
  } else if (roll < 0.65) {
    const after = randInt(random, -1, 8); // -1: right after the acknowledgement
    ops = [
      await send(world, {
        ...base,
        mode: 'stream',
        purpose: 'fresh',
        onAck: () => (after < 0 ? 'disconnect' : undefined),
        onDelta: (count) => (count >= after ? 'disconnect' : undefined),
      }),
    ];
  } else if (roll < 0.73) {
    const at = randInt(random, 1, 10);
    ops = [
      await send(world, {
        ...base,
        mode: 'stream',
        purpose: 'fresh',
        onDelta: (count, op) => {
          if (count === at && op.assistantId) pending.push(stopAnswer(world, tab, target, op.assistantId));
        },
      }),
    ];
  } else if (roll < 0.8) {
    const first = pickInstance(world);
    ops = await Promise.all([
      send(world, { ...base, mode: 'stream', purpose: 'fresh', instance: first }),
      send(world, { ...base, mode: random() < 0.5 ? 'stream' : 'json', purpose: 'resend-at-once', instance: pickInstance(world, first) }),
    ]);
  } else if (roll < 0.88) {
    const at = randInt(random, 1, 6);
    let second: Promise<SendOp> | undefined;
    const first = await send(world, {
      ...base,
      mode: 'stream',
      purpose: 'fresh',
      onDelta: (count) => {
        if (count === at) second = send(world, { ...base, mode: 'stream', purpose: 'resend-mid' });
      },
    });
    ops = second ? [first, await second] : [first];
  } else {
    const first = await send(world, { ...base, mode: 'stream', purpose: 'fresh' });
    await sleep(randInt(random, 0, 400));
    ops = [first, await send(world, { ...base, mode: random() < 0.5 ? 'stream' : 'json', purpose: 'resend-after' })];
  }
  await Promise.all(pending);
  // A client that could not tell whether its send went through retries it, with the same id.
  if (!ops.some((o) => o.outcome === 'ok') && ops.some((o) => o.outcome === 'unknown') && random() < 0.7 && !world.stopping) {
    await sleep(randInt(random, 100, 1_000));
    await send(world, { ...base, mode: 'stream', purpose: 'retry' });
  }
}

/** A tab that only reads: a whole conversation (the JSON export, one snapshot), main or fork, again and again. */
export async function readerTab(world: World, tab: string): Promise<void> {
  const { random } = world;
  while (!world.stopping) {
    await readConversation(world, tab, pick(random, world.targets));
    await sleep(randInt(random, 400, 1_600));
  }
}

/** GET …/export?format=json, recorded as a read; the messages when it answered. */
export async function readConversation(world: World, tab: string, target: Target): Promise<ApiMessage[] | undefined> {
  const inst = pickInstance(world);
  const op = world.rec.add<ReadOp>({ type: 'read', ...opStart(world, tab, target, inst) });
  let messages: ApiMessage[] | undefined;
  await recordCall(
    world,
    op,
    READ_TIMEOUT_MS,
    (signal) => fetch(`${baseUrl(world, inst)}${target.path}/export?format=json`, { headers: { authorization: `Bearer ${target.report.token}` }, signal }),
    async (res) => {
      ({ messages } = (await res.json()) as { messages: ApiMessage[] });
      op.messages = messages.map((m): ReadMessage => [m.id, m.seq, m.role, m.status]);
    },
  );
  return messages;
}

/**
 * A tab that follows GET …/events for the whole run: reconnecting with Last-Event-ID whenever its stream ends
 * (an instance killed, restarted, frozen past its timeout) and now and then on its own. It applies message events
 * by version and deltas by offset, as API.md tells clients to, and remembers answers whose deltas did not build a
 * prefix of their final text.
 */
export class Subscriber {
  private readonly messages = new Map<string, SubscriberMessage>();
  private readonly built = new Map<string, string>();
  private readonly deltaMismatches = new Set<string>();
  lastVersion = 0;
  connects = 0;
  private followed = 0;
  private fullyStreamed = 0;
  private stopped = false;
  private current: ReturnType<typeof deadlineSignal> | undefined;
  /** Settles when `run` ends, after `stop()`. */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly world: World,
    readonly tab: string,
    readonly target: Target,
  ) {}

  /** Starts following (from version 0: a fork's stream first replays its copies). */
  start(): this {
    this.done = this.run();
    return this;
  }

  private async run(): Promise<void> {
    const { random } = this.world;
    while (!this.stopped) {
      const inst = pickInstance(this.world);
      this.connects++;
      const deadline = deadlineSignal(randInt(random, 5_000, 45_000));
      this.current = deadline;
      try {
        const res = await fetch(`${baseUrl(this.world, inst)}${this.target.path}/events`, {
          headers: { authorization: `Bearer ${this.target.report.token}`, 'last-event-id': String(this.lastVersion), accept: 'text/event-stream' },
          signal: deadline.signal,
        });
        if (res.ok && res.body) {
          for await (const ev of readSse(res.body)) this.apply(ev);
        } else {
          await res.body?.cancel();
        }
      } catch {
        // The stream broke or timed out: resume.
      } finally {
        deadline.dispose();
      }
      if (!this.stopped) await sleep(randInt(random, 50, 400));
    }
  }

  stop(): void {
    this.stopped = true;
    this.current?.abort(new Error('stopped'));
  }

  private apply(ev: SseEvent): void {
    if (ev.event === 'message') {
      const m = JSON.parse(ev.data) as ApiMessage;
      const version = Number(ev.id);
      this.lastVersion = Math.max(this.lastVersion, version);
      const held = this.messages.get(m.id);
      if (held && held.version > version) return;
      this.messages.set(m.id, { id: m.id, seq: m.seq, role: m.role, status: m.status, content: m.content, version });
      if (m.role === 'assistant') this.track(m.id, m.status, m.content);
    } else if (ev.event === 'delta') {
      const d = JSON.parse(ev.data) as { id: string; offset: number; text: string };
      const held = this.messages.get(d.id);
      if (held && TERMINAL.has(held.status)) return;
      const built = this.built.get(d.id) ?? held?.content ?? '';
      if (d.offset === built.length) this.built.set(d.id, built + d.text);
    } else if (ev.event === 'cleared') {
      this.messages.clear();
      this.built.clear();
      this.lastVersion = Math.max(this.lastVersion, Number(ev.id));
    }
  }

  private track(id: string, status: string, content: string): void {
    const built = this.built.get(id);
    if (TERMINAL.has(status)) {
      if (built !== undefined && !content.startsWith(built)) this.deltaMismatches.add(id);
      if (built !== undefined) {
        this.followed++;
        if (built === content) this.fullyStreamed++;
      }
      this.built.delete(id);
    } else if (built === undefined || content.startsWith(built)) {
      this.built.set(id, content);
    } else if (!built.startsWith(content)) {
      this.deltaMismatches.add(id);
    }
  }

  record(): SubscriberRecord {
    return {
      type: 'subscriber',
      tab: this.tab,
      report: this.target.report.id,
      conversation: this.target.conversation,
      connects: this.connects,
      lastVersion: this.lastVersion,
      messages: [...this.messages.values()].sort((a, b) => a.seq - b.seq),
      deltaMismatches: [...this.deltaMismatches],
      followedAnswers: this.followed,
      fullyStreamedAnswers: this.fullyStreamed,
    };
  }
}
