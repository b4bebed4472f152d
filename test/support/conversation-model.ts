import type { FinishResult, Reservation } from '../../src/store/turns.js';
import { INTERRUPTED_ERROR } from '../../src/store/turns.js';
import type { MessageRow, StoredSource, TerminalStatus } from '../../src/store/types.js';
import { isTerminal } from '../../src/store/types.js';
import { checkCopies, type ForkBase } from './fork-model.js';

/**
 * An in-memory record of what the store told each client, and the DESIGN.md invariants 1 to 4 checked against it.
 *
 * The model is built from the results the clients got back, not from a replay of the commands in some assumed
 * order: with several clients in flight at once, the order in which the database applied their changes is only
 * known from what each call returned (a row, `applied`, a version). The invariants say that these answers,
 * taken together, must describe exactly one history, and that the stored conversation is that history.
 *
 * A fork's messages 1..seq are copies (test/support/fork-model.ts checks them); its own turns follow from seq + 1,
 * and every invariant holds for them as for any conversation's.
 */

/** One POST of a message: a fresh id, a retry of an id (same content), or a reuse of an id with other content. */
export interface SendRecord {
  op: number;
  client: number;
  intent: 'fresh' | 'replay' | 'conflict';
  userMessageId: string;
  assistantMessageId: string;
  content: string;
  /** Whether the reserve was asked to start the answer when nothing is ahead of it (`ReserveInput.start`). */
  start: boolean;
  outcome: { kind: 'reservation'; reservation: Reservation } | { kind: 'conflict' } | { kind: 'error'; error: string };
}

/** One call that may change an answer; `applied` as the store reported it. */
export type AnswerOp =
  | { op: number; client: number; kind: 'start'; seq: number; row: MessageRow | undefined }
  | { op: number; client: number; kind: 'renew'; seq: number; renewed: boolean }
  | { op: number; client: number; kind: 'checkpoint'; seq: number; content: string; saved: boolean }
  | {
      op: number;
      client: number;
      kind: 'finish';
      seq: number;
      status: TerminalStatus;
      content: string;
      error: string | null;
      sources: StoredSource[];
      result: FinishResult;
    }
  | { op: number; client: number; kind: 'stop'; seq: number; row: MessageRow | undefined }
  /** One row a sweep of this client returned (sweeps of other conversations' rows are not recorded). */
  | { op: number; client: number; kind: 'sweep'; seq: number; row: MessageRow };

/** A reader polling readChangesAfter, as an events stream resuming from Last-Event-ID does. */
export interface FollowerRecord {
  client: number;
  /** Every message row it received, by seq, last one wins. */
  seen: Map<number, MessageRow>;
  /** Terminal rows it received at any time: a terminal answer never changes again. */
  terminalSeen: MessageRow[];
  violations: string[];
}

export interface RunRecord {
  conversationId: string;
  /** Set for a fork: what its first messages copy. */
  fork?: ForkBase;
  sends: SendRecord[];
  answerOps: AnswerOp[];
  followers: FollowerRecord[];
  /** Errors no operation should raise (anything but an idempotency conflict on a conflicting send). */
  unexpected: string[];
}

export interface StoredConversation {
  messages: MessageRow[];
  version: number;
  nextSeq: number;
  messageCount: number;
}

export const ownerOf = (client: number) => `owner-${client}`;
export const modelOf = (client: number) => `model-${client}`;

/** What a drained conversation must look like: every answer terminal. The violations found, none when it holds. */
export function checkConversation(run: RunRecord, stored: StoredConversation): string[] {
  const v: string[] = [...run.unexpected];
  const { messages } = stored;
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  // A fork's copies come first, at versions 1..base; its own turns start at seq base + 1.
  const base = run.fork?.seq ?? 0;
  const copies = messages.filter((m) => m.seq <= base);
  if (run.fork) v.push(...checkCopies(run.conversationId, run.fork, copies));

  // ---- Invariants 1 and 4: each id sent makes exactly one turn; every other send of it replays or conflicts.
  const groups = new Map<string, SendRecord[]>();
  for (const s of run.sends) {
    const g = groups.get(s.userMessageId) ?? [];
    g.push(s);
    groups.set(s.userMessageId, g);
  }
  interface Turn {
    userMessageId: string;
    assistantMessageId: string;
    content: string;
    seq: number;
    client: number;
    userVersion: number;
    answerVersion: number;
    /** The reserve created the answer `streaming`: a start at its creation version, by the sending client. */
    startedBy: AnswerOp | undefined;
  }
  const turns: Turn[] = [];
  for (const [id, sends] of groups) {
    const created = sends.filter((s) => s.outcome.kind === 'reservation' && s.outcome.reservation.kind === 'created');
    if (created.length !== 1) {
      v.push(`inv1/4: message id ${id} was sent ${sends.length} times and resolved 'created' ${created.length} times`);
      continue;
    }
    const winner = created[0]!;
    if (winner.outcome.kind !== 'reservation') continue;
    const { userMessage: u, assistantMessage: a } = winner.outcome.reservation;
    if (u.id !== id || u.content !== winner.content || u.role !== 'user' || u.status !== 'complete') {
      v.push(`inv1: op ${winner.op} created ${JSON.stringify(u)} for a send of ${JSON.stringify(winner.content)} under id ${id}`);
    }
    // Created queued, or streaming (only when the reserve was asked to start it) with the sender's model and lease.
    const startedInReserve = a.status === 'streaming' && winner.start;
    if (
      a.id !== winner.assistantMessageId ||
      a.seq !== u.seq + 1 ||
      a.replyTo !== id ||
      !(a.status === 'queued' || startedInReserve) ||
      a.content !== '' ||
      a.leaseOwner !== ownerOf(winner.client) ||
      a.model !== (startedInReserve ? modelOf(winner.client) : null)
    ) {
      v.push(`inv3: op ${winner.op} created answer ${JSON.stringify(a)} for user message seq ${u.seq}`);
    }
    if (a.changedVersion !== u.changedVersion + 1) {
      v.push(`inv3: op ${winner.op} created its two messages at versions ${u.changedVersion} and ${a.changedVersion}`);
    }
    turns.push({
      userMessageId: id,
      assistantMessageId: a.id,
      content: winner.content,
      seq: u.seq,
      client: winner.client,
      userVersion: u.changedVersion,
      answerVersion: a.changedVersion,
      startedBy: startedInReserve ? { op: winner.op, client: winner.client, kind: 'start', seq: a.seq, row: a } : undefined,
    });
    for (const s of sends) {
      if (s === winner) continue;
      const sameContent = s.content === winner.content;
      if (s.outcome.kind === 'error') continue; // already in `unexpected`
      if (!sameContent) {
        if (s.outcome.kind !== 'conflict') {
          v.push(`inv4: op ${s.op} reused id ${id} with other content and got ${describeSendOutcome(s)}, not an idempotency conflict`);
        }
        continue;
      }
      if (s.outcome.kind !== 'reservation' || s.outcome.reservation.kind !== 'replay') {
        v.push(`inv4: op ${s.op} re-sent id ${id} with the same content and got ${describeSendOutcome(s)}, not a replay`);
        continue;
      }
      const r = s.outcome.reservation;
      if (r.userMessage.id !== id || r.assistantMessage.id !== a.id || r.userMessage.seq !== u.seq || r.assistantMessage.seq !== a.seq) {
        v.push(
          `inv4: op ${s.op} replayed id ${id} as user ${r.userMessage.id}@${r.userMessage.seq} / answer ` +
            `${r.assistantMessage.id}@${r.assistantMessage.seq}; the turn is ${id}@${u.seq} / ${a.id}@${a.seq} (op ${winner.op})`,
        );
      }
    }
  }

  // ---- Invariant 1 against storage: the created turns (and a fork's copies) and nothing else, each once.
  const expectedIds = new Set([...copies.map((m) => m.id), ...turns.flatMap((t) => [t.userMessageId, t.assistantMessageId])]);
  for (const m of messages) {
    if (!expectedIds.has(m.id)) v.push(`inv1: stored message ${m.id} (seq ${m.seq}, ${m.role}) was never created by any send`);
  }
  const storedIds = new Map<string, number>();
  for (const m of messages) storedIds.set(m.id, (storedIds.get(m.id) ?? 0) + 1);
  for (const t of turns) {
    const u = bySeq.get(t.seq);
    if (!u || u.id !== t.userMessageId || u.content !== t.content || u.role !== 'user') {
      const want = `${t.userMessageId} (${JSON.stringify(t.content)})`;
      v.push(`inv1: the user message ${want} is not stored at seq ${t.seq}: found ${JSON.stringify(u)}`);
    }
    const copies = storedIds.get(t.userMessageId) ?? 0;
    if (copies !== 1) v.push(`inv1: user message ${t.userMessageId} stored ${copies} times`);
    const a = bySeq.get(t.seq + 1);
    if (!a || a.id !== t.assistantMessageId || a.replyTo !== t.userMessageId || a.role !== 'assistant') {
      const want = `${t.assistantMessageId} to ${t.userMessageId}`;
      v.push(`inv3: the answer ${want} is not stored at seq ${t.seq + 1}: found ${JSON.stringify(a)}`);
    }
  }

  // ---- Invariant 3: seqs 1..base+2N, user n then its answer n+1; the conversation row agrees.
  const n = turns.length;
  const seqs = messages.map((m) => m.seq);
  const expectedSeqs = Array.from({ length: base + 2 * n }, (_, i) => i + 1);
  if (JSON.stringify(seqs) !== JSON.stringify(expectedSeqs)) {
    v.push(`inv3: stored seqs are [${seqs.join(',')}], expected 1..${base + 2 * n}`);
  }
  for (const t of turns) if (t.seq <= base) v.push(`inv3: a turn was given seq ${t.seq}, within the fork's copies 1..${base}`);
  for (let i = 0; i + 1 < messages.length; i += 2) {
    const [q, a] = [messages[i]!, messages[i + 1]!];
    if (q.role !== 'user' || a.role !== 'assistant' || a.replyTo !== q.id) {
      v.push(`inv3: seq ${q.seq} (${q.role}) and ${a.seq} (${a.role}, reply to ${a.replyTo}) are not a question and its answer`);
    }
  }
  if (stored.nextSeq !== base + 2 * n + 1 || stored.messageCount !== base + 2 * n) {
    v.push(`inv3: conversation has next_seq ${stored.nextSeq} and message_count ${stored.messageCount} for ${base} copies and ${n} turns`);
  }

  // ---- Invariant 2: each answer's applied changes, then what must be stored.
  const opsBySeq = new Map<number, AnswerOp[]>();
  for (const o of run.answerOps) {
    const list = opsBySeq.get(o.seq) ?? [];
    list.push(o);
    opsBySeq.set(o.seq, list);
  }
  const versions: { version: number; what: string }[] = copies.map((m) => ({ version: m.changedVersion, what: `copy ${m.seq}` }));
  const terminalVersion = new Map<number, number>();
  const startVersion = new Map<number, number>();
  for (const t of turns) {
    versions.push(
      { version: t.userVersion, what: `create user ${t.seq}` },
      { version: t.answerVersion, what: `create answer ${t.seq + 1}` },
    );
  }
  for (const t of turns) {
    const seq = t.seq + 1;
    const ops = (opsBySeq.get(seq) ?? []).sort((x, y) => x.op - y.op);
    // A start in the reserve shares the answer's creation version, already counted above.
    const starts = [...(t.startedBy ? [t.startedBy] : []), ...ops.filter((o) => o.kind === 'start' && o.row !== undefined)];
    const stops = ops.filter((o) => o.kind === 'stop' && o.row !== undefined);
    const sweeps = ops.filter((o) => o.kind === 'sweep');
    const finishes = ops.filter((o) => o.kind === 'finish' && o.result.applied);
    const checkpoints = ops.filter((o) => o.kind === 'checkpoint' && o.saved);
    const describe = (o: AnswerOp) => `op ${o.op} ${o.kind} by client ${o.client}`;
    const changeVersion = (o: AnswerOp): number | undefined =>
      o.kind === 'start' || o.kind === 'stop'
        ? o.row?.changedVersion
        : o.kind === 'finish'
          ? o.result.message.changedVersion
          : o.kind === 'sweep'
            ? o.row.changedVersion
            : undefined;
    for (const o of [...starts.filter((o) => o !== t.startedBy), ...finishes, ...stops, ...sweeps]) {
      versions.push({ version: changeVersion(o)!, what: `${describe(o)} of answer ${seq}` });
    }
    if (starts.length > 1) v.push(`inv2: answer ${seq} was started ${starts.length} times: ${starts.map(describe).join('; ')}`);
    const terminals = [...finishes, ...stops, ...sweeps];
    if (terminals.length !== 1) {
      v.push(`inv2: answer ${seq} reached a terminal status ${terminals.length} times: ${terminals.map(describe).join('; ') || 'never'}`);
    }
    const start = starts[0];
    if (start?.kind === 'start') startVersion.set(seq, start.row!.changedVersion);
    if (stops.length > 0 && start) v.push(`inv2: answer ${seq} was stopped while queued, yet also started (${describe(start)})`);
    const foreign = [...checkpoints, ...finishes].filter((o) => !start || o.client !== start.client);
    if (foreign.length > 0) {
      v.push(`inv2: answer ${seq} was changed by a client that did not start it: ${foreign.map(describe).join('; ')}`);
    }

    const stored = bySeq.get(seq);
    if (!stored) continue;
    if (!isTerminal(stored.status)) v.push(`inv2: answer ${seq} is still '${stored.status}' after the run was drained`);
    if (stored.leaseOwner !== null || stored.leaseExpiresAt !== null) {
      const lease = `${stored.leaseOwner} until ${stored.leaseExpiresAt?.toISOString()}`;
      v.push(`inv2: answer ${seq} (${stored.status}) still holds a lease: ${lease}`);
    }
    const expectedModel = start ? modelOf(start.client) : null;
    if (stored.model !== expectedModel) v.push(`inv2: answer ${seq} has model ${stored.model}, expected ${expectedModel}`);
    const allVersions = [t.answerVersion, ...[...starts, ...terminals].map((o) => changeVersion(o)!)];
    if (stored.changedVersion !== Math.max(...allVersions)) {
      v.push(`inv3: answer ${seq} has changed_version ${stored.changedVersion}, its last change was version ${Math.max(...allVersions)}`);
    }
    const terminal = terminals.length === 1 ? terminals[0] : undefined;
    if (!terminal) continue;
    const tv = changeVersion(terminal)!;
    terminalVersion.set(seq, tv);
    if (start && start.kind === 'start' && start.row!.changedVersion >= tv) {
      v.push(`inv2: answer ${seq} was started at version ${start.row!.changedVersion}, after it ended at version ${tv}`);
    }
    let expected: { status: string; content: string; error: string | null; sources: StoredSource[] };
    if (terminal.kind === 'finish') {
      expected = { status: terminal.status, content: terminal.content, error: terminal.error, sources: inKeyOrder(terminal.sources) };
      const m = terminal.result.message;
      if (m.status !== terminal.status || m.content !== terminal.content || m.error !== terminal.error) {
        v.push(
          `inv2: ${describe(terminal)} of answer ${seq} reported applied, but the row it returned is ` +
            `${JSON.stringify({ status: m.status, content: m.content, error: m.error, changedVersion: m.changedVersion })}, ` +
            `not what it wrote ${JSON.stringify(expected)}`,
        );
      }
    } else if (terminal.kind === 'stop') {
      expected = { status: 'stopped', content: '', error: null, sources: [] };
    } else {
      const last = checkpoints.at(-1);
      expected = { status: 'interrupted', content: last?.kind === 'checkpoint' ? last.content : '', error: INTERRUPTED_ERROR, sources: [] };
      if (terminal.kind === 'sweep' && terminal.row.content !== expected.content) {
        v.push(
          `inv2: the sweep of answer ${seq} returned content ${JSON.stringify(terminal.row.content)}, ` +
            `its last checkpoint was ${JSON.stringify(expected.content)}`,
        );
      }
    }
    const got = { status: stored.status, content: stored.content, error: stored.error, sources: inKeyOrder(stored.sources) };
    if (JSON.stringify(got) !== JSON.stringify(expected)) {
      v.push(
        `inv2: answer ${seq} ended by ${describe(terminal)} is stored as ${JSON.stringify(got)}, ` +
          `expected ${JSON.stringify(expected)}`,
      );
    }
    // A terminal answer never changes again: every later call that found it ended saw it exactly as it is now.
    for (const o of ops) {
      if (o.kind === 'finish' && !o.result.applied) {
        const m = o.result.message;
        if (m.status !== stored.status || m.content !== stored.content || m.changedVersion !== stored.changedVersion) {
          const found = JSON.stringify({ status: m.status, content: m.content, v: m.changedVersion });
          v.push(
            `inv2: ${describe(o)} found answer ${seq} ended as ${found}, ` +
              `it is stored as ${JSON.stringify({ ...got, v: stored.changedVersion })}`,
          );
        }
      }
    }
  }

  // Answers start in seq order: an answer starts only after every earlier answer ended (step 3 of a turn).
  for (const [seq, sv] of startVersion) {
    for (const [earlier, tv] of terminalVersion) {
      if (earlier < seq && tv > sv) {
        v.push(`step 3: answer ${seq} started at version ${sv} before answer ${earlier} ended at version ${tv}`);
      }
    }
  }

  // ---- Invariant 3: every versioned change got its own version, 1..version with no gap, as stored.
  versions.sort((x, y) => x.version - y.version);
  const dupes = versions.filter((x, i) => i > 0 && versions[i - 1]!.version === x.version);
  for (const d of dupes) {
    const same = versions.filter((x) => x.version === d.version).map((x) => x.what);
    v.push(`inv3: version ${d.version} was reported for ${same.length} changes: ${same.join('; ')}`);
  }
  const distinct = [...new Set(versions.map((x) => x.version))];
  if (stored.version !== versions.length || distinct.length !== versions.length || distinct.some((x, i) => x !== i + 1)) {
    v.push(
      `inv3: conversation version is ${stored.version}; ` +
        `the ${versions.length} applied changes reported versions [${distinct.join(',')}]`,
    );
  }
  const changed = messages.map((m) => m.changedVersion);
  if (new Set(changed).size !== changed.length) v.push(`inv3: stored changed_versions are not unique: [${changed.join(',')}]`);
  if (changed.some((x) => x < 1 || x > stored.version)) {
    v.push(`inv3: a changed_version lies outside 1..${stored.version}: [${changed.join(',')}]`);
  }

  // ---- Followers: resuming from a version never misses a change, and a terminal answer never changes again.
  for (const f of run.followers) {
    v.push(...f.violations.map((x) => `follower ${f.client}: ${x}`));
    for (const m of messages) {
      const seen = f.seen.get(m.seq);
      if (!seen || seen.id !== m.id || seen.status !== m.status || seen.content !== m.content || seen.changedVersion !== m.changedVersion) {
        v.push(`follower ${f.client}: for seq ${m.seq} holds ${JSON.stringify(seen && pick(seen))}, stored is ${JSON.stringify(pick(m))}`);
      }
    }
    if (f.seen.size !== messages.length) v.push(`follower ${f.client}: holds ${f.seen.size} messages, ${messages.length} are stored`);
    for (const t of f.terminalSeen) {
      const m = bySeq.get(t.seq);
      if (!m || m.status !== t.status || m.content !== t.content || m.changedVersion !== t.changedVersion) {
        v.push(
          `follower ${f.client}: saw answer ${t.seq} ended as ${JSON.stringify(pick(t))}; ` +
            `it is stored as ${JSON.stringify(m && pick(m))}`,
        );
      }
    }
  }
  return v;
}

/** Sources with their keys in one order (jsonb stores them in its own): comparable as JSON text. */
const inKeyOrder = (sources: readonly StoredSource[]) => sources.map(({ n, start, end, quote, heading }) => ({ n, start, end, quote, heading }));

function pick(m: MessageRow) {
  return { id: m.id, seq: m.seq, status: m.status, content: m.content, changedVersion: m.changedVersion };
}

function describeSendOutcome(s: SendRecord): string {
  if (s.outcome.kind === 'reservation') {
    const r = s.outcome.reservation;
    return `'${r.kind}' (user ${r.userMessage.id}@${r.userMessage.seq}, answer ${r.assistantMessage.id}@${r.assistantMessage.seq})`;
  }
  return s.outcome.kind === 'conflict' ? 'an idempotency conflict' : `error ${s.outcome.error}`;
}
