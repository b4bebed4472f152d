import { describe, expect, it } from 'vitest';
import { branchPoints, indexConversations, originAt, type BranchConversation } from './branches.js';

let clock = 0;

/** A conversation created one second after the previous one; `from` is `[source id, seq]`. */
function conv(id: string, lastSeq: number, from?: [string, number]): BranchConversation {
  const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  return { id, lastSeq, createdAt, forkedFrom: from ? { conversationId: from[0], seq: from[1] } : null };
}

/** What the switcher shows at each seq: the branches and which one is current. */
const view = (points: Map<number, { branches: string[]; current: number }>) =>
  Object.fromEntries([...points].map(([seq, p]) => [seq, `${p.branches.join(',')} @${p.current}`]));

describe('originAt', () => {
  it('follows copies back to where a message was first written, and stops past the fork point', () => {
    const main = conv('main', 6);
    const f = conv('f', 6, ['main', 2]);
    const g = conv('g', 8, ['f', 4]);
    const index = indexConversations([main, f, g]);
    expect([1, 2, 3, 4, 5, 6].map((s) => originAt(index, 'g', s))).toEqual(['main', 'main', 'f', 'f', 'g', 'g']);
    expect(originAt(index, 'f', 3)).toBe('f');
    // Seq 0 is the empty prefix: every fork shares it with the root of its chain.
    expect(originAt(index, 'g', 0)).toBe('main');
    expect(originAt(index, 'main', 0)).toBe('main');
  });

  it('stops at the fork when its source is not in the list (deleted, or someone else’s private one)', () => {
    const index = indexConversations([conv('f', 4, ['gone', 2])]);
    expect(originAt(index, 'f', 1)).toBe('f');
    expect(originAt(index, 'f', 0)).toBe('f');
  });

  it('ends on a cycle that bad data could make, instead of looping', () => {
    const index = indexConversations([conv('a', 4, ['b', 2]), conv('b', 4, ['a', 2])]);
    expect(['a', 'b']).toContain(originAt(index, 'a', 1));
  });
});

describe('branchPoints', () => {
  it('shows an edited question as two branches at its seq, from either side, in creation order', () => {
    // main: q1 a2 q3 a4; the question at 3 edited: a fork at 2 with its own q3 a4.
    const list = [conv('main', 4), conv('edit', 4, ['main', 2])];
    expect(view(branchPoints(list, 'main'))).toEqual({ 3: 'main,edit @0' });
    expect(view(branchPoints(list, 'edit'))).toEqual({ 3: 'main,edit @1' });
  });

  it('counts a fork of a fork at the same seq as a third branch, and a later fork as a branch point of its own', () => {
    const list = [
      conv('main', 6),
      conv('edit', 6, ['main', 2]),
      conv('regen', 4, ['edit', 2]), // the edited question's answer regenerated: the question again at 3
      conv('deeper', 6, ['edit', 4]), // the edit's next question (at 5), edited
    ];
    expect(view(branchPoints(list, 'main'))).toEqual({ 3: 'main,edit,regen @0' });
    expect(view(branchPoints(list, 'regen'))).toEqual({ 3: 'main,edit,regen @2' });
    // From the deeper fork: at 3 it is on the edit's branch (it shares the edit's question), at 5 its own.
    expect(view(branchPoints(list, 'deeper'))).toEqual({ 3: 'main,edit,regen @1', 5: 'edit,deeper @1' });
    // The edit, seen from itself, has both.
    expect(view(branchPoints(list, 'edit'))).toEqual({ 3: 'main,edit,regen @1', 5: 'edit,deeper @0' });
  });

  it('treats an edit of the first question (a fork at 0) as a branch at seq 1', () => {
    const list = [conv('main', 2), conv('first', 2, ['main', 0])];
    expect(view(branchPoints(list, 'main'))).toEqual({ 1: 'main,first @0' });
    expect(view(branchPoints(list, 'first'))).toEqual({ 1: 'main,first @1' });
  });

  it('leaves out a fork with no message yet at the seq, and unrelated conversations', () => {
    const list = [
      conv('main', 4),
      conv('empty-fork', 2, ['main', 2]), // forked, but its question is not written yet
      conv('new', 2), // a new conversation, forked from nothing
      conv('other-root', 2, ['new', 0]),
    ];
    expect(view(branchPoints(list, 'main'))).toEqual({});
    // The empty fork, shown, sees the main one's message at 3 (its own is about to be written).
    expect(view(branchPoints(list, 'empty-fork'))).toEqual({ 3: 'main,empty-fork @1' });
    expect(view(branchPoints(list, 'new'))).toEqual({ 1: 'new,other-root @0' });
  });

  it('does not tie forks of a source missing from the list together', () => {
    const list = [conv('a', 4, ['gone', 2]), conv('b', 4, ['gone', 2])];
    expect(view(branchPoints(list, 'a'))).toEqual({});
  });

  it('is empty for a conversation not in the list', () => {
    expect(branchPoints([conv('main', 4), conv('f', 4, ['main', 2])], 'unknown').size).toBe(0);
  });

  it('groups a fork made after the branch point with the branch it copies', () => {
    // A fork of main at 4 copies main's 3 and 4: at 3 it is on main's branch, so there are still two branches.
    const list = [conv('main', 6), conv('edit', 4, ['main', 2]), conv('later', 6, ['main', 4])];
    expect(view(branchPoints(list, 'later'))).toEqual({ 3: 'main,edit @0', 5: 'main,later @1' });
    expect(view(branchPoints(list, 'main'))).toEqual({ 3: 'main,edit @0', 5: 'main,later @0' });
  });
});
