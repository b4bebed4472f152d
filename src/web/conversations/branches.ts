/**
 * Where the conversations of a report branch off each other, for the `‹ 2 / 3 ›` switcher beside a message. Pure:
 * it reads the list of conversations (GET …/conversations), never their messages.
 *
 * The rules:
 * - A fork holds copies of its source's messages 1..forkedFrom.seq, with the same seqs. So the message at seq `s`
 *   of conversation X was first written in `origin(X, s)`: for `s <= X.forkedFrom.seq`, the origin in X's source
 *   (recursively), else X itself. A source missing from the list (deleted, or private to someone else) ends the walk
 *   at the fork that copied from it: its copies count as its own.
 * - `origin(X, 0)` is the root of X's chain of forks: two conversations with the same root share the empty prefix,
 *   so an edit of the very first question (a fork at seq 0) is a branch like any other.
 * - Y branches off X at seq `p >= 1` when they share messages 1..p-1 (`origin(Y, p-1) === origin(X, p-1)`), Y has a
 *   message at p (`Y.lastSeq >= p`), and `origin(Y, p) !== origin(X, p)`.
 * - The branches at p are the groups of those conversations (X included) by `origin(·, p)`, in the order their
 *   origins were created; the group's origin is the conversation a choice opens (it is always in the list).
 *   X's own lastSeq is not checked: the page showing X knows better than a list read earlier whether X has a
 *   message at p, and shows the switcher only beside a message it holds.
 */

export interface BranchConversation {
  id: string;
  forkedFrom: { conversationId: string; seq: number } | null;
  lastSeq: number;
  createdAt: string;
}

export interface BranchPoint {
  seq: number;
  /** The conversation each branch opens, in creation order. */
  branches: string[];
  /** The index in `branches` of the conversation shown. */
  current: number;
}

/** The conversations by id, for `originAt`. */
export type ConversationIndex = ReadonlyMap<string, BranchConversation>;

export function indexConversations(list: readonly BranchConversation[]): ConversationIndex {
  return new Map(list.map((c) => [c.id, c]));
}

/** The conversation in which `id`'s message at `seq` was first written (see the header). */
export function originAt(index: ConversationIndex, id: string, seq: number): string {
  let at = index.get(id);
  // Each step goes to an older conversation; the bound only guards against a cycle that bad data could make.
  for (let steps = 0; at && steps <= index.size; steps++) {
    const from = at.forkedFrom;
    const source = from && seq <= from.seq ? index.get(from.conversationId) : undefined;
    if (!source) return at.id;
    at = source;
  }
  return at?.id ?? id;
}

/**
 * Every seq at which other conversations of the list branch off `currentId`, with its branches. Empty when
 * `currentId` is not in the list.
 */
export function branchPoints(list: readonly BranchConversation[], currentId: string): Map<number, BranchPoint> {
  const points = new Map<number, BranchPoint>();
  const index = indexConversations(list);
  if (!index.has(currentId)) return points;
  // Two chains can part only just after a fork point of one of them: those are the only seqs worth checking.
  const candidates = new Set<number>();
  for (const c of list) if (c.forkedFrom) candidates.add(c.forkedFrom.seq + 1);
  const createdAt = (id: string) => index.get(id)?.createdAt ?? '';
  for (const p of [...candidates].sort((a, b) => a - b)) {
    const shared = originAt(index, currentId, p - 1);
    const mine = originAt(index, currentId, p);
    const groups = new Set<string>([mine]);
    for (const c of list) {
      if (c.id === currentId || c.lastSeq < p || originAt(index, c.id, p - 1) !== shared) continue;
      groups.add(originAt(index, c.id, p));
    }
    if (groups.size < 2) continue;
    const branches = [...groups].sort((a, b) => createdAt(a).localeCompare(createdAt(b)) || a.localeCompare(b));
    points.set(p, { seq: p, branches, current: branches.indexOf(mine) });
  }
  return points;
}
