import { describe, expect, it } from 'vitest';
import { check, countByKind, type ForkOp, type History, type ReadOp, type SendOp, type StoredMessage, type SubscriberRecord } from './torture/checker.js';
import { copyRead } from './torture/fork-check.js';

const R = 'report-1';
/** The report's main conversation: what its sends, reads and subscribers are about. */
const C = 'conversation-1';
const ids = { qa: 'qa', aa: 'aa', qb: 'qb', ab: 'ab', qx: 'qx', ax: 'ax' };

function send(over: Partial<SendOp> & Pick<SendOp, 'op' | 'messageId' | 'content'>): SendOp {
  return { type: 'send', tab: 't1', report: R, conversation: C, instance: 0, mode: 'stream', purpose: 'fresh', start: 0, end: 0, outcome: 'ok', ...over };
}

function row(id: string, seq: number, role: 'user' | 'assistant', content: string, replyTo: string | null = null, status = 'complete'): StoredMessage {
  return { id, seq, role, status, content, replyTo, changedVersion: seq };
}

/** Two tabs, one after the other: A (acknowledged at 10 ms, seq 1) and B (sent at 20 ms, seq 3). Nothing wrong. */
function valid(): History {
  const a = send({ op: 1, messageId: ids.qa, content: 'question A', start: 0, ackAt: 10, end: 50, userSeq: 1, assistantId: ids.aa, saved: true, savedStatus: 'complete', savedContent: 'answer A', streamed: 'answer A' });
  const b = send({ op: 2, tab: 't2', messageId: ids.qb, content: 'question B', start: 20, ackAt: 30, end: 80, userSeq: 3, assistantId: ids.ab, saved: true, savedStatus: 'complete', savedContent: 'answer B', streamed: 'answer B' });
  const read1: ReadOp = { type: 'read', op: 3, tab: 'r', report: R, conversation: C, instance: 1, start: 40, end: 45, outcome: 'ok', messages: [[ids.qa, 1, 'user', 'complete'], [ids.aa, 2, 'assistant', 'complete'], [ids.qb, 3, 'user', 'complete'], [ids.ab, 4, 'assistant', 'queued']] };
  const read2: ReadOp = { type: 'read', op: 4, tab: 'r', report: R, conversation: C, instance: 2, start: 12, end: 15, outcome: 'ok', messages: [[ids.qa, 1, 'user', 'complete'], [ids.aa, 2, 'assistant', 'streaming']] };
  const messages = [row(ids.qa, 1, 'user', 'question A'), row(ids.aa, 2, 'assistant', 'answer A', ids.qa), row(ids.qb, 3, 'user', 'question B'), row(ids.ab, 4, 'assistant', 'answer B', ids.qb)];
  const subscriber: SubscriberRecord = {
    type: 'subscriber',
    tab: 's1',
    report: R,
    conversation: C,
    connects: 2,
    lastVersion: 4,
    messages: messages.map((m) => ({ id: m.id, seq: m.seq, role: m.role, status: m.status, content: m.content, version: m.changedVersion })),
    deltaMismatches: [],
  };
  return { ops: [a, b, read1, read2, { type: 'fault', op: 5, kind: 'kill', target: 'instance 1', start: 5, end: 6 }], subscribers: [subscriber], final: [{ report: R, conversation: C, isMain: true, version: 4, messages }] };
}

const kinds = (h: History) => [...new Set(check(h).map((a) => a.kind))].sort();

describe('the torture checker', () => {
  it('finds nothing wrong in a valid history', () => {
    expect(check(valid())).toEqual([]);
  });

  it('reports a lost message: acknowledged, not stored', () => {
    const h = valid();
    h.final[0]!.messages = h.final[0]!.messages.filter((m) => m.seq <= 2);
    h.subscribers = [];
    h.ops = h.ops.filter((o) => o.type !== 'read');
    // Its answer was reported saved too, so that is missing as well.
    expect(kinds(h)).toEqual(['lost', 'saved-mismatch']);
    expect(check(h).find((a) => a.kind === 'lost')!.message).toContain(ids.qb);
  });

  it('reports a duplicated message: the same question stored twice', () => {
    const h = valid();
    h.final[0]!.messages.push(row(ids.qb, 5, 'user', 'question B'), row('ab2', 6, 'assistant', 'again', ids.qb));
    expect(kinds(h)).toContain('duplicated');
    const h2 = valid();
    h2.final[0]!.messages.push(row('qb-copy', 5, 'user', 'question B'), row('ab2', 6, 'assistant', 'again', 'qb-copy'));
    expect(kinds(h2)).toContain('duplicated');
  });

  it('reports a reordered message: acknowledged first, stored after one sent later', () => {
    const h = valid();
    const [a, b] = h.ops as SendOp[];
    a!.userSeq = 3;
    b!.userSeq = 1;
    h.final[0]!.messages = [row(ids.qb, 1, 'user', 'question B'), row(ids.ab, 2, 'assistant', 'answer B', ids.qb), row(ids.qa, 3, 'user', 'question A'), row(ids.aa, 4, 'assistant', 'answer A', ids.qa)];
    h.subscribers = [];
    h.ops = h.ops.filter((o) => o.type !== 'read');
    expect(kinds(h)).toEqual(['reordered']);
  });

  it('reports a reader that saw the order change: a read that is not a prefix of a later one', () => {
    const h = valid();
    const later = h.ops.find((o): o is ReadOp => o.type === 'read' && o.op === 3)!;
    later.messages = [[ids.qb, 1, 'user', 'complete'], [ids.ab, 2, 'assistant', 'complete'], [ids.qa, 3, 'user', 'complete'], [ids.aa, 4, 'assistant', 'complete']];
    expect(kinds(h)).toEqual(['history-changed']);
  });

  it('reports an unexpected message: stored, never sent', () => {
    const h = valid();
    h.final[0]!.messages.push(row(ids.qx, 5, 'user', 'never sent'), row(ids.ax, 6, 'assistant', 'hm', ids.qx));
    h.subscribers = [];
    expect(kinds(h)).toEqual(['unexpected']);
  });

  it('reports a refused send that was stored, an answer left streaming, a saved text that differs, and a subscriber behind', () => {
    const h = valid();
    const [a, b] = h.ops as SendOp[];
    b!.outcome = 'failed';
    b!.status = 503;
    b!.saved = undefined;
    a!.streamed = 'answer';
    h.final[0]!.messages[3]!.status = 'streaming';
    h.subscribers[0]!.messages.pop();
    h.ops = h.ops.filter((o) => o.type !== 'read');
    const counts = countByKind(check(h));
    expect(counts['failed-but-stored']).toBe(1);
    expect(counts['not-terminal']).toBe(1);
    expect(counts['saved-mismatch']).toBe(1);
    expect(counts['subscriber-mismatch']).toBe(1);
    expect(counts.lost).toBe(0);
  });

  it('accepts a send whose outcome is unknown, stored once or not at all', () => {
    const h = valid();
    const [, b] = h.ops as SendOp[];
    Object.assign(b!, { outcome: 'unknown', ackAt: undefined, userSeq: undefined, saved: undefined });
    expect(check(h)).toEqual([]);
    h.final[0]!.messages = h.final[0]!.messages.filter((m) => m.seq <= 2);
    h.subscribers = [];
    h.ops = h.ops.filter((o) => o.type !== 'read');
    expect(check(h)).toEqual([]);
  });
});

/** valid() and a fork F of its conversation at seq 2, created by a tab, with one turn sent into it. */
const F = 'conversation-2';
function withFork(): History & { fork: ForkOp } {
  const h = valid();
  const source = h.final[0]!.messages;
  const copies: StoredMessage[] = [
    { ...row('qa-copy', 1, 'user', 'question A'), copiedFrom: ids.qa },
    { ...row('aa-copy', 2, 'assistant', 'answer A', 'qa-copy'), copiedFrom: ids.aa },
  ];
  const own = [row('qf', 3, 'user', 'question F'), row('af', 4, 'assistant', 'answer F', 'qf')];
  const fork: ForkOp = {
    type: 'fork',
    op: 6,
    tab: 'f',
    report: R,
    conversation: F,
    instance: 0,
    source: C,
    seq: 2,
    start: 60,
    end: 61,
    outcome: 'ok',
    status: 201,
    before: { at: 'assistant', prefixEnded: true, receiving: false },
    firstRead: copies.map(copyRead),
  };
  const into = send({ op: 7, tab: 'f', conversation: F, messageId: 'qf', content: 'question F', start: 70, ackAt: 71, end: 80, userSeq: 3, assistantId: 'af' });
  h.ops.push(fork, into);
  h.final.push({ report: R, conversation: F, forkedFrom: { conversation: C, seq: 2 }, version: 4, messages: [...copies, ...own] });
  expect(copies.map(copyRead)).toEqual(source.slice(0, 2).map(copyRead));
  return { ...h, fork };
}

describe('the torture checker on forks', () => {
  it('finds nothing wrong in a fork whose copies are its source', () => {
    expect(check(withFork())).toEqual([]);
  });

  it("reports a fork whose copies are not the source's messages as stored, or as its first read showed them", () => {
    const changed = withFork();
    changed.final[1]!.messages[1]!.content = 'answer A, rewritten';
    expect(kinds(changed)).toEqual(['fork-mismatch']);

    const sourceChanged = withFork();
    sourceChanged.final[0]!.messages[1]!.status = 'stopped';
    sourceChanged.subscribers = [];
    sourceChanged.ops = sourceChanged.ops.filter((o) => o.type !== 'read');
    (sourceChanged.ops[0] as SendOp).saved = undefined;
    const found = check(sourceChanged);
    // The stored copy, and the first read of the fork, both differ from the source's final answer.
    expect(found.map((a) => a.kind)).toEqual(['fork-mismatch', 'fork-mismatch']);
    expect(found[1]!.message).toContain('first read');

    const renamed = withFork();
    renamed.final[1]!.messages[0]!.copiedFrom = 'someone-else';
    expect(kinds(renamed)).toEqual(['fork-mismatch']);
  });

  it('reports a fork refused though the tab had read its prefix ended, and one created at a question', () => {
    const busy = withFork();
    Object.assign(busy.fork, { outcome: 'failed', status: 409, error: 'conversation_busy', firstRead: undefined });
    busy.final.pop();
    busy.ops = busy.ops.filter((o) => o.op !== 7);
    expect(kinds(busy)).toEqual(['fork-refused']);
    // Refused while an answer of the prefix was still streaming, as the tab read it: as it should be.
    busy.fork.before = { at: 'assistant', prefixEnded: false, receiving: true };
    expect(check(busy)).toEqual([]);

    const atQuestion = withFork();
    atQuestion.fork.before = { at: 'user', prefixEnded: true, receiving: false };
    expect(kinds(atQuestion)).toEqual(['fork-refused']);
  });

  it('reports a conversation no tab created, one whose every creation was refused, and an acknowledged one not stored', () => {
    const stray = withFork();
    stray.ops = stray.ops.filter((o) => o.type !== 'fork');
    expect(kinds(stray)).toEqual(['unexpected']);

    const refused = withFork();
    Object.assign(refused.fork, { outcome: 'failed', status: 400, error: 'invalid_request', before: undefined, firstRead: undefined });
    expect(kinds(refused)).toEqual(['failed-but-stored']);

    const lost = withFork();
    lost.final.pop();
    lost.ops = lost.ops.filter((o) => o.op !== 7);
    expect(kinds(lost)).toEqual(['lost']);
  });
});
