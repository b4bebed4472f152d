import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors/app-error.js';
import type { Sql } from '../src/store/db.js';
import { readAll, readChangesAfter } from '../src/store/history.js';
import {
  checkpointAnswer,
  countActiveBefore,
  finishAnswer,
  INTERRUPTED_ERROR,
  renewQueuedLease,
  reserveTurn,
  startAnswer,
  stopQueuedAnswer,
  sweepExpiredLeases,
} from '../src/store/turns.js';
import type { MessageRow, TerminalStatus } from '../src/store/types.js';
import { isTerminal } from '../src/store/types.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seedReport } from './support/fixtures.js';
import {
  checkConversation,
  modelOf,
  ownerOf,
  type AnswerOp,
  type FollowerRecord,
  type RunRecord,
  type SendRecord,
} from './support/conversation-model.js';

/**
 * DESIGN.md invariants 1 to 4 under random interleavings: several clients, each an instance with a connection of
 * its own, drive one fresh conversation through the store's turn functions at the same time (reserve, retry,
 * conflicting retry, start, checkpoint, finish, stop, sweep, follow). Afterwards the run is drained (gracefully,
 * or by "crashing" every instance and letting the leases expire) and the stored conversation is checked against
 * what each client was told (test/support/conversation-model.ts).
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

type Cmd =
  /** `start`: the reserve starts the answer when nothing is ahead of it, as sendMessage asks; else always queued. */
  | { t: 'reserve'; content: string; tinyLease: boolean; start: boolean }
  /** A retry of an id already sent (maybe still in flight), same content; a new answer id, or the same one as sendMessage reuses. */
  | { t: 'replay'; pick: number; sameAnswerId: boolean }
  | { t: 'conflict'; pick: number; suffix: string }
  /** One step of the engine's queue loop: start if no earlier answer is active, else renew the queued lease. */
  | { t: 'start'; pick: number; tinyLease: boolean }
  | { t: 'checkpoint'; pick: number; delta: string; tinyLease: boolean }
  | { t: 'finish'; pick: number; status: TerminalStatus; delta: string }
  | { t: 'stop'; pick: number }
  | { t: 'sweep'; pause: boolean }
  | { t: 'follow' };

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
const pick = fc.nat({ max: 1000 });

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('reserve' as const), content: text, tinyLease: fc.boolean(), start: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('replay' as const), pick, sameAnswerId: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('conflict' as const), pick, suffix: fc.string({ minLength: 1, maxLength: 3 }) }),
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
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('stop' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('sweep' as const), pause: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('follow' as const) }) },
);

const runArb = fc.record({
  clientCount: fc.integer({ min: 3, max: MAX_CLIENTS }),
  /** Each command tagged with the client that runs it (tag modulo the client count). */
  commands: fc.array(fc.tuple(fc.nat({ max: MAX_CLIENTS - 1 }), cmdArb), { minLength: 10, maxLength: 30 }),
  drain: fc.constantFrom('graceful' as const, 'crash' as const),
});

// ---------------------------------------------------------------------------------------------------- one run

interface OwnAnswer {
  seq: number;
  state: 'queued' | 'streaming' | 'done';
  /** Everything "generated" so far, saved or not (the engine's live text). */
  text: string;
  /** How much of `text` the checkpoints confirmed saved: the next one saves the rest (as the engine does). */
  savedChars: number;
  lostLease: boolean;
}

class Run {
  readonly record: RunRecord;
  readonly trace: string[] = [];
  private op = 0;
  /** Ids sent with a fresh reserve (from the moment they are sent), for replays and conflicts to reuse. */
  private readonly sent: { userMessageId: string; assistantMessageId: string; content: string }[] = [];
  /** Seqs of every answer created so far, for stops (any client may stop any answer). */
  private readonly answerSeqs: number[] = [];
  private readonly own: OwnAnswer[][];
  private readonly cursors: number[];

  constructor(
    readonly conversationId: string,
    readonly clientCount: number,
  ) {
    this.record = {
      conversationId,
      sends: [],
      answerOps: [],
      followers: Array.from({ length: clientCount }, (_, client): FollowerRecord => ({
        client,
        seen: new Map(),
        terminalSeen: [],
        violations: [],
      })),
      unexpected: [],
    };
    this.own = Array.from({ length: clientCount }, () => []);
    this.cursors = Array.from({ length: clientCount }, () => 0);
  }

  private sql(client: number): Sql {
    return clients[client]!;
  }

  private note(op: number, client: number, what: string): void {
    this.trace.push(`#${op} c${client} ${what}`);
  }

  private unexpected(op: number, client: number, what: string, err: unknown): void {
    const msg = `#${op} c${client} ${what}: unexpected ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
    this.record.unexpected.push(msg);
    this.trace.push(msg);
  }

  private addAnswer(change: AnswerOp): void {
    this.record.answerOps.push(change);
  }

  async exec(client: number, cmd: Cmd): Promise<void> {
    const op = ++this.op;
    try {
      await this.execUnsafe(op, client, cmd);
    } catch (err) {
      this.unexpected(op, client, `command ${cmd.t}`, err);
    }
  }

  private async execUnsafe(op: number, client: number, cmd: Cmd): Promise<void> {
    // A command that finds nothing to act on advances this client's oldest open answer instead (or sends a
    // new message), as an engine would: skipped commands would make most runs idle.
    switch (cmd.t) {
      case 'reserve':
        return this.reserve(op, client, cmd.content, cmd.tinyLease, cmd.start);
      case 'replay': {
        const orig = this.sent[cmd.pick % Math.max(1, this.sent.length)];
        if (!orig) return this.reserve(op, client, `q${op}`, false, true);
        const aid = cmd.sameAnswerId ? orig.assistantMessageId : randomUUID();
        return this.send(op, client, 'replay', orig.userMessageId, aid, orig.content, LONG_LEASE_MS, cmd.sameAnswerId);
      }
      case 'conflict': {
        const orig = this.sent[cmd.pick % Math.max(1, this.sent.length)];
        if (!orig) return this.reserve(op, client, cmd.suffix, false, false);
        return this.send(op, client, 'conflict', orig.userMessageId, randomUUID(), orig.content + cmd.suffix, LONG_LEASE_MS, true);
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
        return this.finish(op, client, a, a.lostLease ? 'interrupted' : cmd.status, a.text + cmd.delta);
      }
      case 'stop': {
        const seq = this.answerSeqs[cmd.pick % Math.max(1, this.answerSeqs.length)];
        if (seq === undefined) return this.reserve(op, client, `q${op}`, true, true);
        return this.stop(op, client, seq);
      }
      case 'sweep': {
        if (cmd.pause) await sleep(2);
        return this.sweep(op, client);
      }
      case 'follow':
        return this.follow(client);
    }
  }

  /** The next step of this client's oldest open answer; a new message when it has none. */
  private async advance(op: number, client: number, delta: string, tinyLease: boolean): Promise<void> {
    const open = this.own[client]!.find((a) => a.state !== 'done');
    if (!open) return this.reserve(op, client, `q${op}${delta}`, tinyLease, delta.length % 2 === 0);
    if (open.state === 'queued') return this.startStep(op, client, open, tinyLease);
    if (open.lostLease) return this.finish(op, client, open, 'interrupted', open.text + delta);
    return this.checkpoint(op, client, open, delta, tinyLease);
  }

  private async reserve(op: number, client: number, content: string, tinyLease: boolean, start: boolean): Promise<void> {
    const userMessageId = randomUUID();
    const assistantMessageId = randomUUID();
    this.sent.push({ userMessageId, assistantMessageId, content });
    return this.send(op, client, 'fresh', userMessageId, assistantMessageId, content, tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS, start);
  }

  /** One pass of the engine's queue loop: start when no earlier answer is active, else renew the queued lease. */
  private async startStep(op: number, client: number, a: OwnAnswer, tinyLease: boolean): Promise<void> {
    const sql = this.sql(client);
    const ref = { conversationId: this.conversationId, seq: a.seq };
    const leaseMs = tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS;
    const active = await countActiveBefore(sql, ref);
    if (active === 0) {
      const row = await startAnswer(sql, { ...ref, owner: ownerOf(client), leaseMs, model: modelOf(client) });
      this.addAnswer({ op, client, kind: 'start', seq: a.seq, row });
      a.state = row ? 'streaming' : 'done';
      return this.note(op, client, `start ${a.seq} lease ${leaseMs} -> ${row ? `streaming v${row.changedVersion}` : 'not queued'}`);
    }
    const renewed = await renewQueuedLease(sql, ref, ownerOf(client), leaseMs);
    this.addAnswer({ op, client, kind: 'renew', seq: a.seq, renewed });
    if (!renewed) a.state = 'done';
    return this.note(op, client, `wait ${a.seq} (${active} active before), renew lease ${leaseMs} -> ${renewed}`);
  }

  private async checkpoint(op: number, client: number, a: OwnAnswer, delta: string, tinyLease: boolean): Promise<void> {
    const content = a.text + delta;
    a.text = content;
    const leaseMs = tinyLease ? TINY_LEASE_MS : LONG_LEASE_MS;
    const saved = await checkpointAnswer(this.sql(client), {
      conversationId: this.conversationId,
      seq: a.seq,
      owner: ownerOf(client),
      leaseMs,
      from: { chars: a.savedChars, sources: 0 },
      text: content.slice(a.savedChars),
    });
    this.addAnswer({ op, client, kind: 'checkpoint', seq: a.seq, content, saved });
    if (!saved) a.lostLease = true;
    else a.savedChars = content.length;
    return this.note(op, client, `checkpoint ${a.seq} ${JSON.stringify(content)} lease ${leaseMs} -> ${saved}`);
  }

  private async send(
    op: number,
    client: number,
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
        conversationId: this.conversationId,
        userMessageId,
        assistantMessageId,
        content,
        maxMessages: 10_000,
        leaseOwner: ownerOf(client),
        leaseMs,
        start: start ? { model: modelOf(client) } : undefined,
      });
      this.record.sends.push({ ...base, outcome: { kind: 'reservation', reservation } });
      const u = reservation.userMessage;
      const a = reservation.assistantMessage;
      if (reservation.kind === 'created') {
        // An answer the reserve started is this client's to generate at once, as the engine does.
        this.own[client]!.push({ seq: a.seq, state: a.status === 'streaming' ? 'streaming' : 'queued', text: '', savedChars: 0, lostLease: false });
        this.answerSeqs.push(a.seq);
      }
      const sent = `${intent} ${short(userMessageId)} ${JSON.stringify(content)} lease ${leaseMs}${start ? ' start' : ''}`;
      this.note(op, client, `${sent} -> ${reservation.kind} seq ${u.seq} v${u.changedVersion}, answer ${a.status} v${a.changedVersion}`);
    } catch (err) {
      if (err instanceof AppError && err.code === 'idempotency_conflict') {
        this.record.sends.push({ ...base, outcome: { kind: 'conflict' } });
        this.note(op, client, `${intent} ${short(userMessageId)} ${JSON.stringify(content)} -> idempotency_conflict`);
        return;
      }
      this.record.sends.push({ ...base, outcome: { kind: 'error', error: String(err) } });
      this.unexpected(op, client, `${intent} ${short(userMessageId)}`, err);
    }
  }

  private async finish(op: number, client: number, a: OwnAnswer, status: TerminalStatus, content: string): Promise<void> {
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
      conversationId: this.conversationId,
      seq: a.seq,
      owner: ownerOf(client),
      status,
      content,
      error,
    });
    this.addAnswer({ op, client, kind: 'finish', seq: a.seq, status, content, error, result });
    const m = result.message;
    const storedAs = `${m.status} ${JSON.stringify(m.content)} v${m.changedVersion}`;
    this.note(op, client, `finish ${a.seq} ${status} ${JSON.stringify(content)} -> applied ${result.applied} (stored ${storedAs})`);
  }

  private async stop(op: number, client: number, seq: number): Promise<void> {
    const row = await stopQueuedAnswer(this.sql(client), { conversationId: this.conversationId, seq });
    this.addAnswer({ op, client, kind: 'stop', seq, row });
    this.note(op, client, `stop ${seq} -> ${row ? `stopped v${row.changedVersion}` : 'not queued'}`);
  }

  private async sweep(op: number, client: number): Promise<void> {
    const rows = await sweepExpiredLeases(this.sql(client));
    const ours = rows.filter((r) => r.conversationId === this.conversationId);
    for (const row of ours) this.addAnswer({ op, client, kind: 'sweep', seq: row.seq, row });
    const swept = ours.map((r) => `${r.seq} ${JSON.stringify(r.content)} v${r.changedVersion}`);
    this.note(op, client, `sweep -> ${swept.join(', ') || 'nothing'}`);
  }

  /** An events stream resuming from the version it saw last (Last-Event-ID). */
  private async follow(client: number): Promise<void> {
    const f = this.record.followers[client]!;
    const cursor = this.cursors[client]!;
    const { conversation, messages } = await readChangesAfter(this.sql(client), this.conversationId, cursor);
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
    this.cursors[client] = conversation.version;
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
            if (a.state === 'streaming') await this.finish(op, client, a, a.lostLease ? 'interrupted' : 'stopped', a.text);
            else if (a.state === 'queued') await this.stop(op, client, a.seq);
          } catch (err) {
            this.unexpected(op, client, 'drain', err);
          }
        }
      }
    }
    for (let client = 0; client < this.clientCount; client++) await this.follow(client);
  }
}

const short = (id: string) => id.slice(0, 8);

async function stored(conversationId: string) {
  const { messages, version } = await readAll(db.sql, conversationId);
  const [conv] = await db.sql<{ nextSeq: number; messageCount: number; version: number }[]>`
    SELECT next_seq, message_count, version FROM conversations WHERE id = ${conversationId}`;
  if (!conv) throw new Error(`conversation ${conversationId} vanished`);
  if (conv.version !== version) throw new Error(`readAll saw version ${version}, the row says ${conv.version}`);
  return { messages, version, nextSeq: conv.nextSeq, messageCount: conv.messageCount };
}

function describeRun(run: Run, violations: string[], messages: MessageRow[]): string {
  const rows = messages.map(
    (m) =>
      `  ${m.seq} ${m.role} ${short(m.id)} ${m.status} ${JSON.stringify(m.content)} v${m.changedVersion}` +
      (m.error ? ` (${m.error})` : ''),
  );
  const trace = run.trace.length > 120 ? [...run.trace.slice(0, 120), `... ${run.trace.length - 120} more`] : run.trace;
  return [
    `${violations.length} invariant violation(s) in conversation ${run.conversationId}:`,
    ...violations.map((x) => `  - ${x}`),
    'operations (in completion order):',
    ...trace.map((x) => `  ${x}`),
    'stored:',
    ...rows,
  ].join('\n');
}

/** FC_STATS=1 prints what the runs exercised, to see that the generators reach the interesting cases. */
const stats = new Map<string, number>();
function tally(run: Run, messages: MessageRow[]): void {
  const add = (k: string, n = 1) => stats.set(k, (stats.get(k) ?? 0) + n);
  add('runs');
  for (const x of run.record.sends) {
    const r = x.outcome.kind === 'reservation' ? x.outcome.reservation.kind : x.outcome.kind;
    const how = x.outcome.kind === 'reservation' && x.outcome.reservation.kind === 'created' ? ` ${x.outcome.reservation.assistantMessage.status}` : '';
    add(`send ${x.intent}${x.start ? ' start' : ''} -> ${r}${how}`);
  }
  for (const o of run.record.answerOps) {
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
  for (const m of messages) if (m.role === 'assistant') add(`final ${m.status}`);
  add('messages', messages.length);
}
afterAll(() => {
  if (!process.env.FC_STATS) return;
  console.log([...stats].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
});

// ---------------------------------------------------------------------------------------------------- the property

describe('store properties', () => {
  it(
    'random interleavings of several clients keep invariants 1-4 (no lost, duplicated or changed-after-terminal message)',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), runArb, async (s, { clientCount, commands, drain }) => {
          const { conversationId } = await seedReport(db.sql);
          const run = new Run(conversationId, clientCount);
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

          const state = await stored(conversationId);
          const violations = checkConversation(run.record, state);
          if (process.env.FC_STATS) tally(run, state.messages);
          if (violations.length > 0) throw new Error(describeRun(run, violations, state.messages));
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
