/**
 * The torture test's checker: a pure function from a recorded history (every operation the simulated tabs ran, with
 * its start, end and outcome, what the events subscribers ended with, and the conversations as finally stored) to
 * the anomalies it contains. In the spirit of Jepsen's list-append checker: a conversation is a list that sends
 * append to; acknowledged appends must be there exactly once, in an order consistent with real time. A fork is a
 * list that starts as a copy of a prefix of another: its copies must be its source's messages, and every check of a
 * conversation holds for what was appended to it after them (fork-check.ts).
 *
 * It imports nothing but its fork checks (fork-check.ts, as pure): the history is plain data (the harness writes it as
 * JSON lines), so an outside tool can feed it the same file, and the unit test can feed it histories with known
 * anomalies.
 */

import { checkForks } from './fork-check.js';

export type Outcome = 'ok' | 'failed' | 'unknown';

/** Times are milliseconds since the start of the run, on the harness's monotonic clock. */
export interface SendOp {
  type: 'send';
  op: number;
  tab: string;
  report: string;
  /** The conversation sent to (the report's main one, or a conversation by its id): what the checks are keyed by. */
  conversation: string;
  instance: number;
  messageId: string;
  content: string;
  mode: 'stream' | 'json';
  purpose: 'fresh' | 'resend-at-once' | 'resend-mid' | 'resend-after' | 'retry';
  start: number;
  end: number;
  /**
   * ok: the server acknowledged the turn (its data-turn event, or the JSON body); failed: it refused the send
   * (4xx, or 503, which API.md says stored nothing; or the connection was refused); unknown: anything else.
   */
  outcome: Outcome;
  /** When the acknowledgement arrived. */
  ackAt?: number;
  status?: number;
  replayed?: boolean;
  userSeq?: number;
  assistantId?: string;
  assistantSeq?: number;
  /** From data-saved (or the JSON body): whether the server said the final answer was committed. */
  saved?: boolean;
  savedStatus?: string;
  savedContent?: string;
  /** The joined text-deltas, when the stream was followed to data-saved. */
  streamed?: string;
  /** The tab closed the stream on purpose before it ended. */
  disconnected?: boolean;
  /** Time from the request to the first text-delta. */
  firstTokenMs?: number;
  error?: string;
}

export interface StopOp {
  type: 'stop';
  op: number;
  tab: string;
  report: string;
  conversation: string;
  instance: number;
  assistantId: string;
  start: number;
  end: number;
  outcome: Outcome;
  status?: number;
  resultStatus?: string;
  resultContent?: string;
  error?: string;
}

/** One message of a history read: [id, seq, role, status]. */
export type ReadMessage = [string, number, 'user' | 'assistant', string];

export interface ReadOp {
  type: 'read';
  op: number;
  tab: string;
  report: string;
  conversation: string;
  instance: number;
  start: number;
  end: number;
  outcome: Outcome;
  /** The whole conversation as read (the export), in seq order. */
  messages?: ReadMessage[];
  error?: string;
}

export type FaultKind = 'kill' | 'pause' | 'terminate-backend' | 'pg-restart' | 'graceful-restart' | 'failover';

export interface FaultOp {
  type: 'fault';
  op: number;
  kind: FaultKind;
  target: string;
  start: number;
  end: number;
  detail?: string;
}

/** One message as a read of a fork showed it: [copiedFrom, seq, role, status, contentDigest(content)]. */
export type CopyRead = [string | null, number, 'user' | 'assistant', string, string];

/**
 * POST …/conversations: a conversation started empty (`source` null) or forked from `source` at `seq`, with the id the
 * tab chose (a retry sends the same id and body).
 */
export interface ForkOp {
  type: 'fork';
  op: number;
  tab: string;
  report: string;
  /** The id of the conversation the call creates. */
  conversation: string;
  instance: number;
  source: string | null;
  seq: number;
  start: number;
  end: number;
  /** ok: 201, or 200 for a replay; failed: a 4xx or 503 (nothing stored); unknown: anything else. */
  outcome: Outcome;
  status?: number;
  error?: string;
  /**
   * The source as the tab read it (one snapshot) to choose `seq`, before the call: what stood at `seq`, whether every
   * message up to it had ended, and whether the source was receiving a turn.
   */
  before?: { at: 'user' | 'assistant' | 'none'; prefixEnded: boolean; receiving: boolean };
  /** The fork's messages up to `seq` as its first read after the call showed them. */
  firstRead?: CopyRead[];
}

export type Op = SendOp | StopOp | ReadOp | FaultOp | ForkOp;

export interface SubscriberMessage {
  id: string;
  seq: number;
  role: string;
  status: string;
  content: string;
  version: number;
}

/** An events subscriber that stayed connected (reconnecting with Last-Event-ID) for the whole run. */
export interface SubscriberRecord {
  type: 'subscriber';
  tab: string;
  report: string;
  conversation: string;
  connects: number;
  /** The version it had seen last when it stopped, and the conversation's stored version. */
  lastVersion: number;
  messages: SubscriberMessage[];
  /** Deltas that did not fit the text the subscriber held: the text they built is not a prefix of the final one. */
  deltaMismatches: string[];
  /** Answers it saw before they ended, and of those, how many it had whole from deltas when they ended (a health
   * measure of live delivery, not a check: a reconnect legitimately loses deltas). */
  followedAnswers?: number;
  fullyStreamedAnswers?: number;
}

export interface StoredMessage {
  id: string;
  seq: number;
  role: 'user' | 'assistant';
  status: string;
  content: string;
  replyTo: string | null;
  changedVersion: number;
  /** For a fork's copy, the message it copies (the first original). */
  copiedFrom?: string | null;
  /** The sources as `n:start-end` joined by commas, to compare a copy's with its original's. */
  sources?: string;
}

export interface StoredConversation {
  report: string;
  conversation: string;
  /** The report's main conversation, which no tab creates. */
  isMain?: boolean;
  /** For a fork: its messages 1..seq are copies of that conversation's. */
  forkedFrom?: { conversation: string; seq: number } | null;
  version: number;
  messages: StoredMessage[];
}

export interface History {
  ops: Op[];
  subscribers: SubscriberRecord[];
  final: StoredConversation[];
}

export type AnomalyKind =
  /** An acknowledged send is not stored. */
  | 'lost'
  /** A message is stored more than once (its id, or its content under another id). */
  | 'duplicated'
  /** A stored user message that no send carried (or with other content than sent). */
  | 'unexpected'
  /** A send the server refused (4xx, 503: "nothing was stored") is stored. */
  | 'failed-but-stored'
  /** Send A was acknowledged before send B began, yet A's seq is higher. */
  | 'reordered'
  /** A history read that is not a prefix of a later, longer read (or of the stored conversation). */
  | 'history-changed'
  /** Seqs not 1..n, or an answer not right after its question. */
  | 'bad-structure'
  /** An answer still queued or streaming at the end. */
  | 'not-terminal'
  /** `saved: true` but the stored answer differs from what the client was told or streamed. */
  | 'saved-mismatch'
  /** Two acknowledgements of one message id named different turns. */
  | 'replay-mismatch'
  /** A client saw an answer in a terminal status that is not how it is stored at the end. */
  | 'terminal-changed'
  /** An events subscriber did not end with exactly the stored conversation. */
  | 'subscriber-mismatch'
  /** An events subscriber's deltas built a text that is not a prefix of the answer's final text. */
  | 'delta-mismatch'
  /** A fork's copies (stored, or as its first read showed them) are not its source's messages 1..seq as stored. */
  | 'fork-mismatch'
  /** A fork was refused though the source it read showed an ended turn at seq, or created at a question. */
  | 'fork-refused';

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'lost',
  'duplicated',
  'unexpected',
  'failed-but-stored',
  'reordered',
  'history-changed',
  'bad-structure',
  'not-terminal',
  'saved-mismatch',
  'replay-mismatch',
  'terminal-changed',
  'subscriber-mismatch',
  'delta-mismatch',
  'fork-mismatch',
  'fork-refused',
];

export interface Anomaly {
  kind: AnomalyKind;
  report: string;
  /** The conversation it was found in (a fork's, for the fork checks). */
  conversation?: string;
  message: string;
}

const TERMINAL = new Set(['complete', 'failed', 'stopped', 'interrupted']);
/** Statuses whose text the owner wrote from everything it streamed (a swept `interrupted` holds a checkpoint). */
const FULL_TEXT = new Set(['complete', 'failed', 'stopped']);

export function check(history: History): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const byConversation = new Map<string, Op[]>();
  for (const op of history.ops) {
    if (op.type === 'fault' || op.type === 'fork') continue;
    const list = byConversation.get(op.conversation) ?? [];
    list.push(op);
    byConversation.set(op.conversation, list);
  }
  for (const stored of history.final) {
    const ops = byConversation.get(stored.conversation) ?? [];
    byConversation.delete(stored.conversation);
    anomalies.push(...checkConversation(stored, ops, history.subscribers.filter((s) => s.conversation === stored.conversation)));
  }
  for (const [conversation, ops] of byConversation) {
    const acked = ops.find((o): o is SendOp => o.type === 'send' && o.outcome === 'ok');
    if (acked) {
      anomalies.push({ kind: 'lost', report: acked.report, conversation, message: `conversation ${conversation} had acknowledged sends but is not stored` });
    }
  }
  anomalies.push(...checkForks(history));
  return anomalies;
}

function checkConversation(stored: StoredConversation, ops: Op[], subscribers: SubscriberRecord[]): Anomaly[] {
  const { report, conversation } = stored;
  const out: Anomaly[] = [];
  const add = (kind: AnomalyKind, message: string) => out.push({ kind, report, conversation, message });
  const messages = [...stored.messages].sort((a, b) => a.seq - b.seq);
  // A fork's copies were sent to its source, not here: the checks of what was sent start after them.
  const copies = stored.forkedFrom?.seq ?? 0;
  const sends = ops.filter((o): o is SendOp => o.type === 'send');
  const sendsById = new Map<string, SendOp[]>();
  for (const s of sends) {
    const list = sendsById.get(s.messageId) ?? [];
    list.push(s);
    sendsById.set(s.messageId, list);
  }
  const rowsById = new Map<string, StoredMessage[]>();
  for (const m of messages) {
    const list = rowsById.get(m.id) ?? [];
    list.push(m);
    rowsById.set(m.id, list);
  }
  const single = (id: string | undefined) => (id === undefined ? undefined : rowsById.get(id)?.[0]);
  const bySeq = new Map(messages.map((m) => [m.seq, m]));

  // ---- Every stored question was sent, once, with the content sent; nothing refused is stored.
  const idsByContent = new Map<string, Set<string>>();
  for (const m of messages) {
    if (m.role !== 'user' || m.seq <= copies) continue;
    const ids = idsByContent.get(m.content) ?? new Set<string>();
    ids.add(m.id);
    idsByContent.set(m.content, ids);
    const sent = sendsById.get(m.id);
    if (!sent) {
      add('unexpected', `stored user message ${m.id} (seq ${m.seq}) was never sent`);
      continue;
    }
    if (!sent.some((s) => s.content === m.content)) {
      add('unexpected', `stored user message ${m.id} (seq ${m.seq}) holds ${JSON.stringify(m.content)}, not what was sent`);
    }
    if (sent.every((s) => s.outcome === 'failed')) {
      const statuses = sent.map((s) => s.status ?? s.error ?? '?').join(', ');
      add('failed-but-stored', `user message ${m.id} (seq ${m.seq}) is stored, though every send of it was refused (${statuses})`);
    }
  }
  for (const [id, rows] of rowsById) {
    if (rows.length > 1) add('duplicated', `message ${id} is stored ${rows.length} times (seqs ${rows.map((r) => r.seq).join(', ')})`);
  }
  for (const [content, ids] of idsByContent) {
    if (ids.size > 1) add('duplicated', `the question ${JSON.stringify(content)} is stored under ${ids.size} ids: ${[...ids].join(', ')}`);
  }

  // ---- Every acknowledged send is stored (exactly once: duplicates above); unknown ones at most once (likewise).
  for (const [id, list] of sendsById) {
    const acked = list.filter((s) => s.outcome === 'ok');
    const row = single(id);
    if (acked.length > 0 && !row) {
      add('lost', `message ${id} was acknowledged (op ${acked[0]!.op}, seq ${acked[0]!.userSeq}) but is not stored`);
      continue;
    }
    if (!row) continue;
    // Every acknowledgement of this id names the same turn: the stored one.
    for (const s of acked) {
      if (s.userSeq !== undefined && s.userSeq !== row.seq) {
        add('replay-mismatch', `op ${s.op} was told message ${id} has seq ${s.userSeq}; it is stored at seq ${row.seq}`);
      }
      const answer = bySeq.get(row.seq + 1);
      if (s.assistantId !== undefined && answer && s.assistantId !== answer.id) {
        add('replay-mismatch', `op ${s.op} was told the answer to ${id} is ${s.assistantId}; the stored answer is ${answer.id}`);
      }
    }
  }

  // ---- Structure: seqs 1..n; each question n answered at n+1; every answer terminal.
  messages.forEach((m, i) => {
    if (m.seq !== i + 1) add('bad-structure', `seq ${m.seq} is at position ${i + 1}: the seqs are not contiguous from 1`);
  });
  for (const m of messages) {
    if (m.role === 'user') {
      const answer = bySeq.get(m.seq + 1);
      if (!answer || answer.role !== 'assistant' || answer.replyTo !== m.id) {
        add('bad-structure', `question ${m.id} (seq ${m.seq}) is not followed by its answer`);
      }
    } else {
      const question = bySeq.get(m.seq - 1);
      if (!question || question.role !== 'user' || m.replyTo !== question.id) {
        add('bad-structure', `answer ${m.id} (seq ${m.seq}) does not follow its question`);
      }
      if (!TERMINAL.has(m.status)) add('not-terminal', `answer ${m.id} (seq ${m.seq}) is still ${m.status}`);
    }
  }

  // ---- saved: true means stored, exactly as told and streamed.
  for (const s of sends) {
    if (s.saved !== true) continue;
    const answer = single(s.assistantId);
    if (!answer) {
      add('saved-mismatch', `op ${s.op} was told answer ${s.assistantId} was saved; it is not stored`);
      continue;
    }
    if (s.savedStatus !== undefined && s.savedStatus !== answer.status) {
      add('saved-mismatch', `op ${s.op} was told answer ${answer.id} was saved as ${s.savedStatus}; it is stored as ${answer.status}`);
    }
    if (s.savedContent !== undefined && s.savedContent !== answer.content) {
      add('saved-mismatch', `op ${s.op} was told answer ${answer.id} was saved with other text than is stored`);
    }
    if (s.streamed !== undefined && s.streamed !== answer.content) {
      add(
        'saved-mismatch',
        `op ${s.op} streamed ${s.streamed.length} characters for answer ${answer.id} and was told saved; ` +
          `${answer.content.length} are stored${answer.content.startsWith(s.streamed) ? ' (the stream is a prefix)' : ''}`,
      );
    }
  }

  // ---- Real time: if A was acknowledged before B was first sent, A's seq is lower.
  interface Timed {
    id: string;
    firstStart: number;
    ackAt: number;
    seq: number;
  }
  const timed: Timed[] = [];
  for (const [id, list] of sendsById) {
    const row = single(id);
    if (!row) continue;
    const acks = list.filter((s) => s.outcome === 'ok' && s.ackAt !== undefined).map((s) => s.ackAt!);
    timed.push({ id, firstStart: Math.min(...list.map((s) => s.start)), ackAt: acks.length ? Math.min(...acks) : Infinity, seq: row.seq });
  }
  const byAck = timed.filter((t) => t.ackAt !== Infinity).sort((a, b) => a.ackAt - b.ackAt);
  // prefixMax[i]: the entry with the highest seq among the first i acknowledged.
  const prefixMax: Timed[] = [];
  for (const t of byAck) prefixMax.push(prefixMax.length && prefixMax.at(-1)!.seq > t.seq ? prefixMax.at(-1)! : t);
  for (const b of timed) {
    let lo = 0;
    let hi = byAck.length; // count of acknowledgements strictly before b began
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (byAck[mid]!.ackAt < b.firstStart) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) continue;
    const a = prefixMax[lo - 1]!;
    if (a.seq > b.seq) {
      add(
        'reordered',
        `message ${a.id} was acknowledged at ${a.ackAt.toFixed(1)} ms, before ${b.id} was sent at ` +
          `${b.firstStart.toFixed(1)} ms, yet has the higher seq (${a.seq} > ${b.seq})`,
      );
    }
  }

  // ---- History reads: each a prefix of every later, longer one; none shorter than one that ended before it began.
  const storedRead: ReadMessage[] = messages.map((m) => [m.id, m.seq, m.role, m.status]);
  const reads = ops.filter((o): o is ReadOp & { messages: ReadMessage[] } => o.type === 'read' && o.outcome === 'ok' && !!o.messages);
  const byLength = [...reads].sort((a, b) => a.messages.length - b.messages.length || a.start - b.start);
  const chain: Array<{ label: string; messages: ReadMessage[] }> = [
    ...byLength.map((r) => ({ label: `read op ${r.op}`, messages: r.messages })),
    { label: 'the stored conversation', messages: storedRead },
  ];
  for (let i = 1; i < chain.length; i++) {
    const shorter = chain[i - 1]!;
    const longer = chain[i]!;
    const at = firstDifference(shorter.messages, longer.messages);
    if (at !== undefined) {
      add(
        'history-changed',
        `${shorter.label} (${shorter.messages.length} messages) is not a prefix of ${longer.label} ` +
          `(${longer.messages.length}): they differ at position ${at + 1}`,
      );
    }
  }
  const byEnd = [...reads].sort((a, b) => a.end - b.end);
  let longestBefore: (typeof reads)[number] | undefined;
  let j = 0;
  for (const r of [...reads].sort((a, b) => a.start - b.start)) {
    while (j < byEnd.length && byEnd[j]!.end < r.start) {
      if (!longestBefore || byEnd[j]!.messages.length > longestBefore.messages.length) longestBefore = byEnd[j];
      j++;
    }
    if (longestBefore && longestBefore.messages.length > r.messages.length) {
      add(
        'history-changed',
        `read op ${r.op} saw ${r.messages.length} messages, fewer than read op ${longestBefore.op} (${longestBefore.messages.length}), ` +
          'which ended before it began',
      );
    }
  }
  // A terminal answer never changes again: what a read or a stop saw is what is stored.
  const byId = new Map(messages.map((m) => [m.id, m]));
  for (const r of reads) {
    for (const [id, seq, role, status] of r.messages) {
      const m = byId.get(id);
      if (role === 'assistant' && TERMINAL.has(status) && m && m.status !== status) {
        add('terminal-changed', `read op ${r.op} saw answer ${id} (seq ${seq}) ${status}; it is stored ${m.status}`);
      }
    }
  }
  for (const s of ops) {
    if (s.type !== 'stop' || s.outcome !== 'ok' || !s.resultStatus || !TERMINAL.has(s.resultStatus)) continue;
    const m = byId.get(s.assistantId);
    if (m && (m.status !== s.resultStatus || (s.resultContent !== undefined && m.content !== s.resultContent))) {
      add('terminal-changed', `stop op ${s.op} was answered ${s.resultStatus} for ${s.assistantId}; it is stored ${m.status}`);
    }
  }

  // ---- Events subscribers end with exactly the stored conversation.
  for (const sub of subscribers) {
    const held = new Map(sub.messages.map((m) => [m.id, m]));
    const problems: string[] = [];
    for (const m of messages) {
      const h = held.get(m.id);
      if (!h) problems.push(`missing ${m.role} ${m.id} (seq ${m.seq})`);
      else if (h.seq !== m.seq || h.status !== m.status || h.content !== m.content) {
        problems.push(`holds ${m.id} (seq ${m.seq}) as ${h.status} with ${h.content.length} characters; stored ${m.status} with ${m.content.length}`);
      }
      held.delete(m.id);
    }
    for (const h of held.values()) problems.push(`holds ${h.id} (seq ${h.seq}), which is not stored`);
    if (problems.length > 0) {
      const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
      add('subscriber-mismatch', `subscriber ${sub.tab}: ${problems.slice(0, 3).join('; ')}${more}`);
    }
    for (const d of sub.deltaMismatches) {
      const m = byId.get(d);
      if (m && FULL_TEXT.has(m.status)) add('delta-mismatch', `subscriber ${sub.tab}: the deltas of ${d} do not build its stored text`);
    }
  }
  return out;
}

function firstDifference(shorter: ReadMessage[], longer: ReadMessage[]): number | undefined {
  for (let i = 0; i < shorter.length; i++) {
    const a = shorter[i]!;
    const b = longer[i];
    if (!b || a[0] !== b[0] || a[1] !== b[1]) return i;
  }
  return undefined;
}

/** Anomalies counted by kind, every kind present (zeros included), for the summary table. */
export function countByKind(anomalies: Anomaly[]): Record<AnomalyKind, number> {
  const counts = Object.fromEntries(ANOMALY_KINDS.map((k) => [k, 0])) as Record<AnomalyKind, number>;
  for (const a of anomalies) counts[a.kind]++;
  return counts;
}
