import type { MessageRow } from '../../src/store/types.js';
import { isTerminal } from '../../src/store/types.js';

/**
 * Forks in the store property test (test/support/conversation-model.ts): what a fork must hold, and what it must
 * leave alone. DESIGN.md: a fork is a new conversation whose messages 1..seq are copies of its source's, and it never
 * changes its source. Both are checked against what the forking client read of the source just before and just
 * after its call, and against the source as finally stored.
 */

/** A fork that was created: its messages 1..seq copy `prefix`, the source's rows as read right after it committed. */
export interface ForkBase {
  sourceId: string;
  seq: number;
  prefix: MessageRow[];
}

/** One createConversation call with a source, and the source as the same client read it before and after the call. */
export interface ForkOp {
  op: number;
  client: number;
  sourceId: string;
  forkId: string;
  seq: number;
  outcome: 'created' | 'not-a-turn-end' | 'busy';
  before: MessageRow[];
  after: MessageRow[];
}

/** What a copy holds of its original: everything but its identity, its conversation and its place in versions. */
export const copiedFields = (m: MessageRow) => ({
  seq: m.seq,
  role: m.role,
  content: m.content,
  status: m.status,
  error: m.error,
  model: m.model,
  sources: m.sources,
  context: m.context,
  reportRevision: m.reportRevision,
  authorId: m.authorId,
  inputTokens: m.inputTokens,
  outputTokens: m.outputTokens,
});

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The stored copies of a fork (its messages with seq <= the fork seq) against the source's prefix: the same seqs and
 * contents, new ids, `copiedFrom` naming the first original, answers replying to their question's copy, versions
 * 1..seq in seq order, no lease. The violations found.
 */
export function checkCopies(conversationId: string, fork: ForkBase, copies: MessageRow[]): string[] {
  const v: string[] = [];
  const expectedSeqs = Array.from({ length: fork.seq }, (_, i) => i + 1);
  if (!same(fork.prefix.map((m) => m.seq), expectedSeqs)) {
    v.push(`fork: the source's prefix read after the fork holds seqs [${fork.prefix.map((m) => m.seq).join(',')}], not 1..${fork.seq}`);
  }
  if (!same(copies.map((m) => m.seq), expectedSeqs)) {
    v.push(`fork: the copies are at seqs [${copies.map((m) => m.seq).join(',')}], not 1..${fork.seq}`);
  }
  const copyOf = new Map<string, MessageRow>();
  const bySeq = new Map(copies.map((m) => [m.seq, m]));
  for (const original of fork.prefix) {
    const copy = bySeq.get(original.seq);
    if (!copy) continue;
    copyOf.set(original.id, copy);
    const at = `fork: the copy at seq ${original.seq}`;
    if (!isTerminal(original.status)) v.push(`${at} copies an answer that was still '${original.status}' after the fork committed`);
    if (!same(copiedFields(copy), copiedFields(original))) {
      v.push(`${at} holds ${JSON.stringify(copiedFields(copy))}, the source held ${JSON.stringify(copiedFields(original))}`);
    }
    if (copy.id === original.id) v.push(`${at} kept the original's id ${copy.id}`);
    if (copy.conversationId !== conversationId) v.push(`${at} belongs to conversation ${copy.conversationId}`);
    if (copy.copiedFrom !== (original.copiedFrom ?? original.id)) {
      v.push(`${at} names ${copy.copiedFrom} as its original; the first original is ${original.copiedFrom ?? original.id}`);
    }
    if (copy.changedVersion !== original.seq) v.push(`${at} has version ${copy.changedVersion}, not its seq`);
    if (copy.leaseOwner !== null || copy.leaseExpiresAt !== null) v.push(`${at} holds a lease (${copy.leaseOwner})`);
  }
  for (const original of fork.prefix) {
    const copy = copyOf.get(original.id);
    const question = original.replyTo === null ? undefined : copyOf.get(original.replyTo);
    if (copy && copy.replyTo !== (question?.id ?? null)) {
      v.push(`fork: the copy at seq ${original.seq} replies to ${copy.replyTo}, not to the copy of its question (${question?.id ?? null})`);
    }
  }
  return v;
}

/**
 * One fork call against the source as read around it and as finally stored: the source is unchanged by the call
 * (every row ended before it is identical after it; the others only move on), the outcome is the one the rows
 * before it dictate, and a created fork's copies are the source's final rows 1..seq.
 */
export function checkFork(f: ForkOp, sourceFinal: MessageRow[], forkFinal: MessageRow[] | undefined): string[] {
  const v: string[] = [];
  const what = `fork op ${f.op} (client ${f.client}) of ${f.sourceId.slice(0, 8)} at seq ${f.seq} -> ${f.outcome}`;
  const after = new Map(f.after.map((m) => [m.seq, m]));
  for (const b of f.before) {
    const a = after.get(b.seq);
    if (!a) {
      v.push(`${what}: the source's seq ${b.seq} was stored before the call and not after it`);
    } else if (isTerminal(b.status) ? !same(a, b) : a.id !== b.id || a.role !== b.role || a.replyTo !== b.replyTo || a.changedVersion < b.changedVersion) {
      v.push(`${what}: the source's seq ${b.seq} was ${JSON.stringify(b)} before the call and ${JSON.stringify(a)} after it`);
    }
  }

  const before = new Map(f.before.map((m) => [m.seq, m]));
  const prefix = Array.from({ length: f.seq }, (_, i) => before.get(i + 1));
  const endedBefore = f.seq === 0 || (before.get(f.seq)?.role === 'assistant' && prefix.every((m) => m && isTerminal(m.status)));
  if (endedBefore && f.outcome !== 'created') v.push(`${what}: refused, though before the call 1..${f.seq} were stored, ended, and ${f.seq} an answer`);
  if (before.get(f.seq)?.role === 'user' && f.outcome !== 'not-a-turn-end') v.push(`${what}: seq ${f.seq} is a question`);
  if (f.outcome === 'not-a-turn-end' && (f.seq === 0 || before.get(f.seq)?.role === 'assistant')) v.push(`${what}: seq ${f.seq} ended a turn before the call`);
  if (f.outcome !== 'created') return v;

  if (f.seq > 0 && after.get(f.seq)?.role !== 'assistant') v.push(`${what}: after the call seq ${f.seq} of the source is no answer`);
  const finalBySeq = new Map(sourceFinal.map((m) => [m.seq, m]));
  const forkBySeq = new Map((forkFinal ?? []).map((m) => [m.seq, m]));
  for (let seq = 1; seq <= f.seq; seq++) {
    const original = finalBySeq.get(seq);
    const copy = forkBySeq.get(seq);
    if (!original || !copy || !same(copiedFields(copy), copiedFields(original))) {
      const show = (m: MessageRow | undefined) => JSON.stringify(m && copiedFields(m));
      v.push(`${what}: its seq ${seq} is ${show(copy)}, the source's is finally ${show(original)}`);
    }
  }
  return v;
}
