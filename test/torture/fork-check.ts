/**
 * The torture checker's fork checks (checker.ts runs them): every conversation but a report's main one was created by
 * a tab and not refused; an acknowledged creation is stored; a fork's copies are its source's messages 1..seq as
 * finally stored (so neither changed after the fork), as stored and as the fork's first read showed them; and a fork is
 * refused only when the source the tab had just read allowed it. Pure, like the checker: the history is plain data.
 */
import type { Anomaly, AnomalyKind, CopyRead, ForkOp, History, StoredConversation, StoredMessage } from './checker.js';

/**
 * A fingerprint of a text for the history file (a fork's first read would otherwise repeat whole conversations): its
 * length and two 32-bit FNV-1a hashes of its UTF-16 code units.
 */
export function contentDigest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c ^ 0x5bd1e995, 0x01000193) >>> 0;
  }
  return `${text.length}:${a.toString(16)}:${b.toString(16)}`;
}

/** A message as a fork's first read records it, and as its source's final state must show the same message. */
export const copyRead = (m: StoredMessage): CopyRead => [m.copiedFrom ?? m.id, m.seq, m.role, m.status, contentDigest(m.content)];

/** The codes a fork is refused with for what its source holds (not the limits, not the server's own trouble). */
const REFUSALS = new Set(['invalid_request', 'conversation_busy', 'not_found']);

export function checkForks(history: History): Anomaly[] {
  const out: Anomaly[] = [];
  const add = (kind: AnomalyKind, report: string, conversation: string, message: string) => out.push({ kind, report, conversation, message });
  const finalById = new Map(history.final.map((c) => [c.conversation, c]));
  const forks = history.ops.filter((o): o is ForkOp => o.type === 'fork');
  const callsById = new Map<string, ForkOp[]>();
  for (const f of forks) callsById.set(f.conversation, [...(callsById.get(f.conversation) ?? []), f]);

  // ---- What is stored was created, and not refused; what was acknowledged is stored, as asked.
  for (const c of history.final) {
    if (c.isMain) continue;
    const calls = callsById.get(c.conversation) ?? [];
    const first = calls[0];
    if (!first) {
      add('unexpected', c.report, c.conversation, `conversation ${c.conversation} is stored, but no tab created it`);
      continue;
    }
    if (calls.every((f) => f.outcome === 'failed')) {
      const statuses = calls.map((f) => f.status ?? f.error ?? '?').join(', ');
      add('failed-but-stored', c.report, c.conversation, `conversation ${c.conversation} is stored, though every call creating it was refused (${statuses})`);
    }
    const stored = c.forkedFrom ? `${c.forkedFrom.conversation} at ${c.forkedFrom.seq}` : 'nothing';
    const asked = first.source === null ? 'nothing' : `${first.source} at ${first.seq}`;
    if (stored !== asked) add('fork-mismatch', c.report, c.conversation, `conversation ${c.conversation} is a fork of ${stored}; op ${first.op} asked for ${asked}`);
    if (c.forkedFrom) out.push(...checkCopies(c, finalById.get(c.forkedFrom.conversation)));
  }
  for (const [id, calls] of callsById) {
    const acked = calls.find((f) => f.outcome === 'ok');
    if (acked && !finalById.has(id)) add('lost', acked.report, id, `conversation ${id} was created (op ${acked.op}) but is not stored`);
  }

  // ---- Each call against the source as its tab read it before, and as the source is finally stored.
  for (const f of forks) {
    if (f.source === null) continue;
    const where = `fork op ${f.op} of ${f.source} at seq ${f.seq}`;
    if (f.before?.at === 'user' && f.outcome === 'ok') add('fork-refused', f.report, f.conversation, `${where} was created, though seq ${f.seq} is a question`);
    const ended = f.seq === 0 || (f.before?.at === 'assistant' && f.before.prefixEnded);
    if (ended && f.outcome === 'failed' && f.error !== undefined && REFUSALS.has(f.error)) {
      add('fork-refused', f.report, f.conversation, `${where} was refused (${f.status} ${f.error ?? ''}), though the tab had read 1..${f.seq} ended`);
    }
    if (!f.firstRead) continue;
    const source = finalById.get(f.source);
    const expected = (source?.messages ?? []).filter((m) => m.seq <= f.seq).sort((a, b) => a.seq - b.seq).map(copyRead);
    const at = firstDifference(f.firstRead, expected);
    if (at !== undefined) {
      add(
        'fork-mismatch',
        f.report,
        f.conversation,
        `${where}: its first read showed ${JSON.stringify(f.firstRead[at] ?? null)} at position ${at + 1}; ` +
          `the source finally holds ${JSON.stringify(expected[at] ?? null)}`,
      );
    }
  }
  return out;
}

/** A stored fork's copies against its stored source: the same messages 1..seq, with new ids, naming their originals. */
function checkCopies(fork: StoredConversation, source: StoredConversation | undefined): Anomaly[] {
  const out: Anomaly[] = [];
  const seq = fork.forkedFrom?.seq ?? 0;
  const add = (message: string) => out.push({ kind: 'fork-mismatch', report: fork.report, conversation: fork.conversation, message: `fork ${fork.conversation}: ${message}` });
  if (!source) {
    add(`its source ${fork.forkedFrom?.conversation} is not stored`);
    return out;
  }
  const copies = new Map(fork.messages.map((m) => [m.seq, m]));
  const copyOf = new Map<string, StoredMessage>();
  for (const original of source.messages) {
    if (original.seq > seq) continue;
    const copy = copies.get(original.seq);
    if (!copy) {
      add(`seq ${original.seq} of its source has no copy`);
      continue;
    }
    copyOf.set(original.id, copy);
    const fields = (m: StoredMessage) => JSON.stringify([m.role, m.status, m.content, m.sources ?? '']);
    if (fields(copy) !== fields(original)) {
      add(`seq ${original.seq} is ${copy.role} ${copy.status} with ${copy.content.length} characters; the source's is ${original.role} ${original.status} with ${original.content.length}`);
    }
    if (copy.id === original.id || copy.copiedFrom !== (original.copiedFrom ?? original.id)) {
      add(`seq ${original.seq} is ${copy.id} copied from ${copy.copiedFrom}; the source's is ${original.id} (first written as ${original.copiedFrom ?? original.id})`);
    }
  }
  for (const original of source.messages) {
    const copy = copyOf.get(original.id);
    if (copy && original.replyTo !== null && copy.replyTo !== copyOf.get(original.replyTo)?.id) {
      add(`the copy at seq ${original.seq} does not reply to its question's copy`);
    }
  }
  if ([...copies.keys()].filter((s) => s <= seq).length !== copyOf.size) add(`it holds messages at or before seq ${seq} that copy nothing of its source`);
  return out;
}

function firstDifference(a: CopyRead[], b: CopyRead[]): number | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return undefined;
}
