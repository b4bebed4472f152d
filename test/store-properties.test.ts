import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/app-error.js';
import { createConversation } from '../src/store/conversations.js';
import type { Sql } from '../src/store/db.js';
import { readAll, readChangesAfter } from '../src/store/history.js';
import {
  countActiveBefore,
  finishAnswer,
  INTERRUPTED_ERROR,
  renewQueuedLease,
  reserveTurn,
  startAnswer,
  stopQueuedAnswer,
  sweepExpiredLeases,
} from '../src/store/turns.js';
import { checkpointAnswer } from '../src/store/checkpoints.js';
import type { MessageRow, StoredSource, TerminalStatus } from '../src/store/types.js';
import { isTerminal } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport } from './support/fixtures.js';
import {
  checkConversation,
  modelOf,
  ownerOf,
  type FollowerRecord,
  type RunRecord,
  type SendRecord,
} from './support/conversation-model.js';
import { checkFork, type ForkBase, type ForkOp } from './support/fork-model.js';

/**
 * DESIGN.md invariants 1 to 4 under random interleavings: several clients, each an instance with a connection of
 * its own, drive the conversations of one fresh report through the store's functions at the same time (reserve,
 * retry, conflicting retry, start, checkpoint, finish, stop, sweep, follow; and creating conversations, forking any
 * of them at any seq, also while it is receiving turns, and sending into the forks). Afterwards the run is drained
 * (gracefully, or by "crashing" every instance and letting the leases expire) and each stored conversation is checked
 * against what each client was told (test/support/conversation-model.ts), and each fork against the source as its
 * client read it around the call and as finally stored (test/support/fork-model.ts): a fork's first messages are
 * its source's, and a fork never changes its source.
 *
 * Knobs (environment): FC_SEED and FC_PATH replay a failure fast-check printed (the database's own timing can still
 * vary between replays); FC_RUNS sets the number of runs; FC_SHRINK=1 shrinks a failure (slow: every try is a
 * real run); FC_STATS=1 prints what the runs exercised.
 */

const MAX_CLIENTS = 4;
/** Long enough that most in-run leases survive, short enough that a crashed run is swept quickly. */
const LONG_LEASE_MS = 300;
const TINY_LEASE_MS = 1;
const NUM_RUNS = Number(process.env.FC_RUNS ?? 30);
/** The report's main conversation and at most this many more per run: enough for forks of forks. */
const MAX_EXTRA_CONVERSATIONS = 5;

let db: TestDatabase;
let clients: Sql[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  clients = Array.from({ length: MAX_CLIENTS }, (_, i) => db.connect({ max: 1, applicationName: `rc-prop-${i}` }));
  await Promise.all(clients.map((c) => c`SELECT 1`));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------------- commands

/** `conv` picks one of the run's conversations (modulo their number), forks included. */
type Cmd =
  /** `start`: the reserve starts the answer when nothing is ahead of it, as sendMessage asks; else always queued. */
  | { t: 'reserve'; conv: number; content: string; tinyLease: boolean; start: boolean }
  /** A retry of an id already sent (maybe still in flight), same content; a new answer id, or the same one as sendMessage reuses. */
  | { t: 'replay'; conv: number; pick: number; sameAnswerId: boolean }
  | { t: 'conflict'; conv: number; pick: number; suffix: string }
  /** One step of the engine's queue loop: start if no earlier answer is active, else renew the queued lease. */
  | { t: 'start'; pick: number; tinyLease: boolean }
  | { t: 'checkpoint'; pick: number; delta: string; tinyLease: boolean }
  /** `cite`: the answer is saved with a source, which a fork must copy with it. */
  | { t: 'finish'; pick: number; status: TerminalStatus; delta: string; cite: boolean }
  | { t: 'stop'; conv: number; pick: number }
  | { t: 'sweep'; pause: boolean }
  | { t: 'follow'; conv: number }
  | { t: 'create' }
  /**
   * At an answer whose turn and every earlier one the client just read ended (`ended`), at any answer the client
   * knows of (ended or not), at 0, at a question, or just past the newest seq it knows.
   */
  | { t: 'fork'; conv: number; at: ForkAt; pick: number };

type ForkAt = 'ended' | 'answer' | 'zero' | 'question' | 'beyond';

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
const pick = fc.nat({ max: 1000 });
const conv = fc.nat({ max: 1000 });

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('reserve' as const), conv, content: text, tinyLease: fc.boolean(), start: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('replay' as const), conv, pick, sameAnswerId: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('conflict' as const), conv, pick, suffix: fc.string({ minLength: 1, maxLength: 3 }) }),
  },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('start' as const), pick, tinyLease: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('checkpoint' as const), pick, delta: text, tinyLease: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('finish' as const),
      pick,
      // 'interrupted' is what the engine writes on a graceful shutdown.
      status: fc.constantFrom<TerminalStatus>('complete', 'failed', 'stopped', 'interrupted'),
      delta: text,
      cite: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stop' as const), conv, pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('sweep' as const), pause: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('follow' as const), conv }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('create' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('fork' as const),
      conv,
      at: fc.constantFrom<ForkAt>('ended', 'ended', 'ended', 'answer', 'answer', 'zero', 'question', 'beyond'),
      pick,
    }),
  },
);

const runArb = fc.record({
  clientCount: fc.integer({ min: 3, max: MAX_CLIENTS }),
  /** Turns the main conversation holds, ended, before the clients start: a prefix for forks to copy. */
  history: fc.array(
    fc.record({ status: fc.constantFrom<TerminalStatus>('complete', 'complete', 'failed', 'stopped'), content: text, cite: fc.boolean() }),
    { maxLength: 3 },
  ),
  /** Each command tagged with the client that runs it (tag modulo the client count). */
  commands: fc.array(fc.tuple(fc.nat({ max: MAX_CLIENTS - 1 }), cmdArb), { minLength: 12, maxLength: 48 }),
  drain: fc.constantFrom('graceful' as const, 'crash' as const),
});

// ---------------------------------------------------------------------------------------------------- one run

/** One conversation of a run: what its clients were told (`record`), and what they know of it to pick from. */
interface Conv {
  label: string;
  record: RunRecord;
  /** Ids sent with a fresh reserve (from the moment they are sent), for replays and conflicts to reuse. */
  sent: { userMessageId: string; assistantMessageId: string; content: string }[];
  /** Seqs of every answer known so far (a fork's copies included), for stops and forks. */
  answerSeqs: number[];
  /** The newest seq known. */
  lastSeq: number;
  /** Per client, the version its events stream resumes from. */
  cursors: number[];
}

interface OwnAnswer {
  conv: Conv;
  seq: number;
  state: 'queued' | 'streaming' | 'done';
  /** Everything "generated" so far, saved or not (the engine's live text). */
  text: string;
  /** How much of `text` the checkpoints confirmed saved: the next one saves the rest (as the engine does). */
  savedChars: number;
  lostLease: boolean;
}

class Run {
  readonly convs: Conv[] = [];
  readonly forks: ForkOp[] = [];
  /** Errors no operation should raise (anything but the refusals each command expects). */
  readonly unexpected: string[] = [];
  readonly trace: string[] = [];
  private op = 0;
  private readonly own: OwnAnswer[][];

  constructor(
    readonly report: { reportId: string; userId: string; conversationId: string },
    readonly clientCount: number,
  ) {
    this.own = Array.from({ length: clientCount }, () => []);
    this.addConv(report.conversationId, undefined);
  }

  private addConv(conversationId: string, fork: ForkBase | undefined): Conv {
    const base = fork?.seq ?? 0;
    const c: Conv = {
      label: this.convs.length === 0 ? 'main' : `c${this.convs.length}`,
      record: {
        conversationId,
        fork,
        sends: [],
        answerOps: [],
        followers: Array.from({ length: this.clientCount }, (_, client): FollowerRecord => ({
          client,
          seen: new Map(),
          terminalSeen: [],
          violations: [],
        })),
        unexpected: [],
      },
      sent: [],
      answerSeqs: Array.from({ length: base / 2 }, (_, i) => 2 * (i + 1)),
      lastSeq: base,
      cursors: Array.from({ length: this.clientCount }, () => 0),
    };
    this.convs.push(c);
    return c;
  }

  private pickConv(n: number): Conv {
    return this.convs[n % this.convs.length]!;
  }

  private sql(client: number): Sql {
    return clients[client]!;
  }

  private note(op: number, client: number, what: string): void {
    this.trace.push(`#${op} c${client} ${what}`);
  }

  private fail(op: number, client: number, what: string, err: unknown): void {
    const msg = `#${op} c${client} ${what}: unexpected ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    this.unexpected.push(msg);
    this.trace.push(msg);
  }

  async exec(client: number, cmd: Cmd): Promise<void> {
    const op = ++this.op;
    try {
      await this.execUnsafe(op, client, cmd);
    } catch (err) {
      this.fail(op, client, `command ${cmd.t}`, err);
    }
  }

  private async execUnsafe(op: number, client: number, cmd: Cmd): Promise<void> {
    // A command that finds nothing to act on advances this client's oldest open answer instead (or sends a
    // new message), as an engine would: skipped commands would make most runs idle.
    switch (cmd.t) {
      case 'reserve':
        return this.reserve(op, client, this.pickConv(cmd.conv), cmd.content, cmd.tinyLease, cmd.start);
      case 'replay': {
        const c = this.pickConv(cmd.conv);
        const orig = c.sent[cmd.pick % Math.max(1, c.sent.length)];
        if (!orig) return this.reserve(op, client, c, `q${op}`, false, true);
        const aid = cmd.sameAnswerId ? orig.assistantMessageId : randomUUID();
        return this.send(op, client, c, 'replay', orig.userMessageId, aid, orig.content, LONG_LEASE_MS, cmd.sameAnswerId);
      }
      case 'conflict': {
        const c = this.pickConv(cmd.conv);
        const orig = c.sent[cmd.pick % Math.max(1, c.sent.length)];
        if (!orig) return this.reserve(op, client, c, cmd.suffix, false, false);
        return this.send(op, client, c, 'conflict', orig.userMessageId, randomUUID(), orig.content + cmd.suffix, LONG_LEASE_MS, true);
      }
      case 'start': {
        // Mostly its oldest queued answer, the one an engine could start first; sometimes any other.
        const queued = this.own[client]!.filter((a) => a.state === 'queued');
        const a = queued[cmd.pick % 3 === 0 ? cmd.pick % Math.max(1, queued.length) : 0];
        if (!a) return this.advance(op, client, '', cmd.tinyLease);
        return this.startStep(op, client, a, cmd.tinyLease);
      }
      case 'checkpoint': {
        const streaming = this.own[client]!.filter((a) => a.state === 'streaming' && !a.lostLease);
        const a = streaming[cmd.pick % Math.max(1, streaming.length)];
        if (!a) return this.advance(op, client, cmd.delta, cmd.tinyLease);
        return this.checkpoint(op, client, a, cmd.delta, cmd.tinyLease);
      }
      case 'finish': {
        const streaming = this.own[client]!.filter((a) => a.state === 'streaming');
        const a = streaming[cmd.pick % Math.max(1, streaming.length)];
        if (!a) return this.advance(op, client, cmd.delta, false);
        const content = a.text + cmd.delta;
        const sources = cmd.cite ? [citing(op, content)] : [];
        return this.finish(op, client, a, a.lostLease ? 'interrupted' : cmd.status, content, sources);
      }
      case 'stop': {
        const c = this.pickConv(cmd.conv);
        const seq = c.answerSeqs[cmd.pick % Math.max(1, c.answerSeqs.length)];
        if (seq === undefined) return this.reserve(op, client, c, `q${op}`, true, true);
        return this.stop(op, client, c, seq);
      }
      case 'sweep': {
        if (cmd.pause) await sleep(2);
        return this.sweep(op, client);
      }
      case 'follow':
        return this.follow(client, this.pickConv(cmd.conv));
      case 'create':
        if (this.convs.length > MAX_EXTRA_CONVERSATIONS) return this.advance(op, client, '', false);
        return this.create(op, client);
      case 'fork':
        if (this.convs.length > MAX_EXTRA_CONVERSATIONS) return this.advance(op, client, '', false);
        return this.fork(op, client, this.pickConv(cmd.conv), cmd.at, cmd.pick);
    }
  }

  /** The next step of this client's oldest open answer; a new message (in the newest conversation) when it has none. */
  private async advance(op: number, client: number, delta: string, tinyLease: boolean): Promise<void> {
    const open = this.own[client]!.find((a) => a.state !== 'done');
    if (!open) return this.reserve(op, client, this.convs.at(-1)!, `q${op}${delta}`, tinyLease, delta.length % 2 === 0);
    if (open.state === 'queued') return this.startStep(op, client, open, tinyLease);
    if (open.lostLease) return this.finish(op, client, open, 'interrupted', open.text + delta, []);
    return this.checkpoint(op, client, open, delta, tinyLease);
  }

  private async reserve(op: number, client: number, c: Conv, content: string, tinyLease: boolean, start: boolean): Promise<void> {
    const userMessageId = randomUUID();
    const assistantMessageId = randomUUID();
    c.sent.push({ userMessageId, assistantMessageId, content });
    return this.send(op, client, c, 'fresh', userMessageId, assistantMessageId, content, tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS, start);
  }

  /** One pass of the engine's queue loop: start when no earlier answer is active, else renew the queued lease. */
  private async startStep(op: number, client: number, a: OwnAnswer, tinyLease: boolean): Promise<void> {
    const sql = this.sql(client);
    const ref = { conversationId: a.conv.record.conversationId, seq: a.seq };
    const leaseMs = tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS;
    const active = await countActiveBefore(sql, ref);
    if (active === 0) {
      const row = await startAnswer(sql, { ...ref, owner: ownerOf(client), leaseMs, model: modelOf(client) });
      a.conv.record.answerOps.push({ op, client, kind: 'start', seq: a.seq, row });
      a.state = row ? 'streaming' : 'done';
      return this.note(op, client, `${a.conv.label} start ${a.seq} lease ${leaseMs} -> ${row ? `streaming v${row.changedVersion}` : 'not queued'}`);
    }
    const renewed = await renewQueuedLease(sql, ref, ownerOf(client), leaseMs);
    a.conv.record.answerOps.push({ op, client, kind: 'renew', seq: a.seq, renewed });
    if (!renewed) a.state = 'done';
    return this.note(op, client, `${a.conv.label} wait ${a.seq} (${active} active before), renew lease ${leaseMs} -> ${renewed}`);
  }

  private async checkpoint(op: number, client: number, a: OwnAnswer, delta: string, tinyLease: boolean): Promise<void> {
    const content = a.text + delta;
    a.text = content;
    const leaseMs = tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS;
    const saved = await checkpointAnswer(this.sql(client), {
      conversationId: a.conv.record.conversationId,
      seq: a.seq,
      owner: ownerOf(client),
      leaseMs,
      from: { chars: a.savedChars, sources: 0 },
      text: content.slice(a.savedChars),
    });
    a.conv.record.answerOps.push({ op, client, kind: 'checkpoint', seq: a.seq, content, saved });
    if (!saved) a.lostLease = true;
    else a.savedChars = content.length;
    return this.note(op, client, `${a.conv.label} checkpoint ${a.seq} ${JSON.stringify(content)} lease ${leaseMs} -> ${saved}`);
  }

  private async send(
    op: number,
    client: number,
    c: Conv,
    intent: SendRecord['intent'],
    userMessageId: string,
    assistantMessageId: string,
    content: string,
    leaseMs: number,
    start: boolean,
  ): Promise<void> {
    const base = { op, client, intent, userMessageId, assistantMessageId, content, start };
    try {
      const reservation = await reserveTurn(this.sql(client), {
        conversationId: c.record.conversationId,
        userMessageId,
        assistantMessageId,
        content,
        maxMessages: 10_000,
        leaseOwner: ownerOf(client),
        leaseMs,
        start: start ? { model: modelOf(client) } : undefined,
      });
      c.record.sends.push({ ...base, outcome: { kind: 'reservation', reservation } });
      const u = reservation.userMessage;
      const a = reservation.assistantMessage;
      if (reservation.kind === 'created') {
        // An answer the reserve started is this client's to generate at once, as the engine does.
        this.own[client]!.push({ conv: c, seq: a.seq, state: a.status === 'streaming' ? 'streaming' : 'queued', text: '', savedChars: 0, lostLease: false });
        c.answerSeqs.push(a.seq);
        c.lastSeq = Math.max(c.lastSeq, a.seq);
      }
      const sent = `${c.label} ${intent} ${short(userMessageId)} ${JSON.stringify(content)} lease ${leaseMs}${start ? ' start' : ''}`;
      this.note(op, client, `${sent} -> ${reservation.kind} seq ${u.seq} v${u.changedVersion}, answer ${a.status} v${a.changedVersion}`);
    } catch (err) {
      if (err instanceof AppError && err.code === 'idempotency_conflict') {
        c.record.sends.push({ ...base, outcome: { kind: 'conflict' } });
        this.note(op, client, `${c.label} ${intent} ${short(userMessageId)} ${JSON.stringify(content)} -> idempotency_conflict`);
        return;
      }
      c.record.sends.push({ ...base, outcome: { kind: 'error', error: String(err) } });
      this.fail(op, client, `${c.label} ${intent} ${short(userMessageId)}`, err);
    }
  }

  private async finish(op: number, client: number, a: OwnAnswer, status: TerminalStatus, content: string, sources: StoredSource[]): Promise<void> {
    const error =
      status === 'failed'
        ? 'The model failed.'
        : status === 'interrupted'
          ? a.lostLease
            ? 'This answer was taken over after a delay.'
            : 'The server restarted while this answer was being generated.'
          : null;
    a.state = 'done';
    const result = await finishAnswer(this.sql(client), {
      conversationId: a.conv.record.conversationId,
      seq: a.seq,
      owner: ownerOf(client),
      status,
      content,
      error,
      sources,
    });
    a.conv.record.answerOps.push({ op, client, kind: 'finish', seq: a.seq, status, content, error, sources, result });
    const m = result.message;
    const storedAs = `${m.status} ${JSON.stringify(m.content)} v${m.changedVersion}`;
    this.note(op, client, `${a.conv.label} finish ${a.seq} ${status} ${JSON.stringify(content)} -> applied ${result.applied} (stored ${storedAs})`);
  }

  private async stop(op: number, client: number, c: Conv, seq: number): Promise<void> {
    const row = await stopQueuedAnswer(this.sql(client), { conversationId: c.record.conversationId, seq });
    c.record.answerOps.push({ op, client, kind: 'stop', seq, row });
    this.note(op, client, `${c.label} stop ${seq} -> ${row ? `stopped v${row.changedVersion}` : 'not queued'}`);
  }

  private async sweep(op: number, client: number): Promise<void> {
    const rows = await sweepExpiredLeases(this.sql(client));
    const swept: string[] = [];
    for (const row of rows) {
      // Sweeps of other runs' rows are not recorded (there are none: every run is drained).
      const c = this.convs.find((x) => x.record.conversationId === row.conversationId);
      if (!c) continue;
      c.record.answerOps.push({ op, client, kind: 'sweep', seq: row.seq, row });
      swept.push(`${c.label} ${row.seq} ${JSON.stringify(row.content)} v${row.changedVersion}`);
    }
    this.note(op, client, `sweep -> ${swept.join(', ') || 'nothing'}`);
  }

  /** An events stream resuming from the version it saw last (Last-Event-ID). */
  private async follow(client: number, c: Conv): Promise<void> {
    const f = c.record.followers[client]!;
    const cursor = c.cursors[client]!;
    const { conversation, messages } = await readChangesAfter(this.sql(client), c.record.conversationId, cursor);
    let last = cursor;
    for (const m of messages) {
      if (m.changedVersion <= last || m.changedVersion > conversation.version) {
        f.violations.push(
          `after version ${cursor} got seq ${m.seq} at version ${m.changedVersion} ` +
            `(previous ${last}, conversation at ${conversation.version})`,
        );
      }
      last = m.changedVersion;
      f.seen.set(m.seq, m);
      if (isTerminal(m.status)) f.terminalSeen.push(m);
    }
    if (conversation.version < cursor) f.violations.push(`conversation version went back from ${cursor} to ${conversation.version}`);
    c.cursors[client] = conversation.version;
  }

  private newConversation(client: number, forkFrom: { conversationId: string; seq: number } | undefined) {
    return createConversation(this.sql(client), {
      id: randomUUID(),
      reportId: this.report.reportId,
      userId: this.report.userId,
      title: null,
      visibility: 'shared',
      forkFrom,
      request: { forkFrom: forkFrom ?? null },
      maxPerUser: 1_000,
    });
  }

  private async create(op: number, client: number): Promise<void> {
    const { conversation } = await this.newConversation(client, undefined);
    const c = this.addConv(conversation.id, undefined);
    this.note(op, client, `create -> ${c.label} ${short(conversation.id)}`);
  }

  /**
   * Forks `source` at a seq chosen as `at` says, reading the source just before and just after the call: the fork
   * must leave it as it was, and its copies are checked against the rows read after it.
   */
  private async fork(op: number, client: number, source: Conv, at: ForkAt, n: number): Promise<void> {
    const sql = this.sql(client);
    const sourceId = source.record.conversationId;
    const before = (await readAll(sql, sourceId)).messages;
    const ended = before.filter((m, i) => m.role === 'assistant' && before.slice(0, i + 1).every((x) => isTerminal(x.status))).map((m) => m.seq);
    const known = at === 'ended' ? ended : source.answerSeqs;
    const answer = known[n % Math.max(1, known.length)];
    const seq = at === 'zero' || answer === undefined ? 0 : at === 'question' ? answer - 1 : at === 'beyond' ? source.lastSeq + 2 : answer;
    let outcome: ForkOp['outcome'];
    let forkId = '';
    try {
      forkId = (await this.newConversation(client, { conversationId: sourceId, seq })).conversation.id;
      outcome = 'created';
    } catch (err) {
      if (err instanceof AppError && err.code === 'conversation_busy') outcome = 'busy';
      else if (err instanceof AppError && err.code === 'invalid_request') outcome = 'not-a-turn-end';
      else return this.fail(op, client, `fork of ${source.label} at ${seq}`, err);
    }
    const after = (await readAll(sql, sourceId)).messages;
    this.forks.push({ op, client, sourceId, forkId, seq, outcome, before, after });
    const label = outcome === 'created' ? this.addConv(forkId, { sourceId, seq, prefix: after.filter((m) => m.seq <= seq) }).label : outcome;
    this.note(op, client, `fork ${source.label} at ${seq} (${at}) -> ${label}`);
  }

  /** Turns ended one after another by client 0, before the run's clients start. */
  async seedHistory(turns: { status: TerminalStatus; content: string; cite: boolean }[]): Promise<void> {
    for (const turn of turns) {
      await this.reserve(++this.op, 0, this.convs[0]!, `history: ${turn.content}`, false, true);
      const a = this.own[0]!.at(-1)!;
      await this.finish(++this.op, 0, a, turn.status, turn.content, turn.cite ? [citing(this.op, turn.content)] : []);
    }
    this.trace.push('-- the clients start');
  }

  /** Ends every answer still open: each instance finishes or stops its own, or all "crash" and leases expire. */
  async drain(mode: 'graceful' | 'crash'): Promise<void> {
    this.trace.push(`-- drain: ${mode}`);
    if (mode === 'crash') {
      await sleep(LONG_LEASE_MS + 100);
      await this.sweep(++this.op, 0);
    } else {
      for (let client = 0; client < this.clientCount; client++) {
        for (const a of this.own[client]!) {
          const op = ++this.op;
          try {
            if (a.state === 'streaming') await this.finish(op, client, a, a.lostLease ? 'interrupted' : 'stopped', a.text, []);
            else if (a.state === 'queued') await this.stop(op, client, a.conv, a.seq);
          } catch (err) {
            this.fail(op, client, 'drain', err);
          }
        }
      }
    }
    for (const c of this.convs) for (let client = 0; client < this.clientCount; client++) await this.follow(client, c);
  }
}

const short = (id: string) => id.slice(0, 8);
/** A source an answer is saved with: what a fork must copy with the answer. */
const citing = (op: number, content: string): StoredSource => ({ n: 1, start: 0, end: content.length, quote: content, heading: `op ${op}` });

async function stored(conversationId: string) {
  const { messages, version } = await readAll(db.sql, conversationId);
  const [row] = await db.sql<{ nextSeq: number; messageCount: number; version: number }[]>`
    SELECT next_seq, message_count, version FROM conversations WHERE id = ${conversationId}`;
  if (!row) throw new Error(`conversation ${conversationId} vanished`);
  if (row.version !== version) throw new Error(`readAll saw version ${version}, the row says ${row.version}`);
  return { messages, version, nextSeq: row.nextSeq, messageCount: row.messageCount };
}

/** Every violation of the run: per conversation, then per fork. */
async function checkRun(run: Run) {
  const states = new Map<string, Awaited<ReturnType<typeof stored>>>();
  for (const c of run.convs) states.set(c.record.conversationId, await stored(c.record.conversationId));
  const violations = [...run.unexpected];
  for (const c of run.convs) {
    violations.push(...checkConversation(c.record, states.get(c.record.conversationId)!).map((x) => `${c.label}: ${x}`));
  }
  for (const f of run.forks) {
    violations.push(...checkFork(f, states.get(f.sourceId)!.messages, states.get(f.forkId)?.messages));
  }
  return { states, violations };
}

function describeRun(run: Run, violations: string[], states: Map<string, { messages: MessageRow[] }>): string {
  const rows = run.convs.flatMap((c) => [
    `  ${c.label} ${c.record.conversationId}${c.record.fork ? ` (fork of ${short(c.record.fork.sourceId)} at ${c.record.fork.seq})` : ''}:`,
    ...states.get(c.record.conversationId)!.messages.map(
      (m) =>
        `    ${m.seq} ${m.role} ${short(m.id)} ${m.status} ${JSON.stringify(m.content)} v${m.changedVersion}` +
        (m.error ? ` (${m.error})` : '') +
        (m.copiedFrom ? ` copy of ${short(m.copiedFrom)}` : ''),
    ),
  ]);
  const trace = run.trace.length > 150 ? [...run.trace.slice(0, 150), `... ${run.trace.length - 150} more`] : run.trace;
  return [
    `${violations.length} invariant violation(s) in report ${run.report.reportId}:`,
    ...violations.map((x) => `  - ${x}`),
    'operations (in completion order):',
    ...trace.map((x) => `  ${x}`),
    'stored:',
    ...rows,
  ].join('\n');
}

/** FC_STATS=1 prints what the runs exercised, to see that the generators reach the interesting cases. */
const stats = new Map<string, number>();
function tally(run: Run, states: Map<string, { messages: MessageRow[] }>): void {
  const add = (k: string, n = 1) => stats.set(k, (stats.get(k) ?? 0) + n);
  add('runs');
  add('conversations', run.convs.length);
  for (const f of run.forks) {
    const sourceBusy = f.before.some((m) => !isTerminal(m.status)) ? ' (source receiving turns)' : '';
    add(`fork ${f.seq === 0 ? 'at 0' : 'at seq'} -> ${f.outcome}${sourceBusy}`);
    if (run.convs.find((c) => c.record.conversationId === f.sourceId)?.record.fork) add(`fork of a fork -> ${f.outcome}`);
    if (f.outcome === 'created') add('messages copied', f.seq);
  }
  for (const c of run.convs) {
    if (c.record.fork) add(`sends into forks`, c.record.sends.length);
    for (const x of c.record.sends) {
      const r = x.outcome.kind === 'reservation' ? x.outcome.reservation.kind : x.outcome.kind;
      const how = x.outcome.kind === 'reservation' && x.outcome.reservation.kind === 'created' ? ` ${x.outcome.reservation.assistantMessage.status}` : '';
      add(`send ${x.intent}${x.start ? ' start' : ''} -> ${r}${how}`);
    }
    for (const o of c.record.answerOps) {
      const applied =
        o.kind === 'start' || o.kind === 'stop'
          ? o.row !== undefined
          : o.kind === 'finish'
            ? o.result.applied
            : o.kind === 'renew'
              ? o.renewed
              : o.kind === 'checkpoint'
                ? o.saved
                : true;
      add(`${o.kind}${o.kind === 'finish' ? ` ${o.status}` : ''} ${applied ? 'applied' : 'refused'}`);
    }
    const messages = states.get(c.record.conversationId)!.messages;
    for (const m of messages) if (m.role === 'assistant' && !m.copiedFrom) add(`final ${m.status}`);
    add('messages', messages.length);
  }
}
afterAll(() => {
  if (!process.env.FC_STATS) return;
  console.log([...stats].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
});

// ---------------------------------------------------------------------------------------------------- the property

describe('store properties', () => {
  it(
    'random interleavings of several clients keep invariants 1-4 in every conversation; forks copy their prefix and never change their source',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), runArb, async (s, { clientCount, history, commands, drain }) => {
          const run = new Run(await seedReport(db.sql), clientCount);
          await run.seedHistory(history);
          const perClient = Array.from({ length: clientCount }, (_, c) =>
            commands.filter(([tag]) => tag % clientCount === c).map(([, cmd]) => cmd),
          );
          // Each client runs its commands in order; the scheduler decides which client goes next, and the
          // database work of the others stays in flight meanwhile, so transactions really overlap.
          const all = Promise.all(
            perClient.map(async (cmds, client) => {
              for (const cmd of cmds) {
                await s.schedule(Promise.resolve(), `c${client} ${cmd.t}`);
                await run.exec(client, cmd);
              }
            }),
          );
          await s.waitFor(all);
          await run.drain(drain);

          const { states, violations } = await checkRun(run);
          if (process.env.FC_STATS) tally(run, states);
          if (violations.length > 0) throw new Error(describeRun(run, violations, states));
        }),
        {
          numRuns: NUM_RUNS,
          seed: process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED),
          path: process.env.FC_PATH,
          endOnFailure: process.env.FC_SHRINK === undefined,
        },
      );
    },
    120_000,
  );

  // The case the property reaches only by chance, pinned: a finish whose UPDATE finds the answer already ended with
  // the same status and text must still say applied: false when another change (here the sweeper) wrote it, or
  // the engine would republish the sweeper's row and tell the client `saved` with an error text not stored.
  it(
    'finishAnswer after the sweeper interrupted the answer reports applied: false',
    async () => {
      const sql = clients[0]!;
      const { conversationId } = await seedReport(db.sql);
      const reservation = await reserveTurn(sql, {
        conversationId,
        userMessageId: randomUUID(),
        assistantMessageId: randomUUID(),
        content: 'question',
        maxMessages: 100,
        leaseOwner: ownerOf(0),
        leaseMs: 60_000,
      });
      const ref = { conversationId, seq: reservation.assistantMessage.seq };
      const started = await startAnswer(sql, { ...ref, owner: ownerOf(0), leaseMs: 1, model: modelOf(0) });
      expect(started?.status).toBe('streaming');
      await sleep(20);
      const swept = (await sweepExpiredLeases(clients[1]!)).filter((r) => r.conversationId === conversationId);
      expect(swept.map((r) => r.seq)).toEqual([ref.seq]);
      // The owner learns it lost the lease and ends the answer as the engine does, with no text generated since.
      const finished = await finishAnswer(sql, {
        ...ref,
        owner: ownerOf(0),
        status: 'interrupted',
        content: '',
        error: 'This answer was taken over after a delay.',
      });
      expect(finished.message.changedVersion).toBe(swept[0]!.changedVersion);
      expect(finished.message.error).toBe(INTERRUPTED_ERROR);
      expect(finished.applied).toBe(false);
    },
  );
});
