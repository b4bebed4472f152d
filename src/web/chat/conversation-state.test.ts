import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types.js';
import { displayState } from './chat-message.js';
import { ConversationState } from './conversation-state.js';
import { DeltaRepair } from './delta-repair.js';
import { apiMessage } from './message-fixture.js';

const REPORT = '00000000-0000-4000-8000-000000000000';
let clock = 0;

function msg(seq: number, patch: Partial<Message> = {}): Message {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  const user = seq % 2 === 1;
  const defaults = { reportId: REPORT, status: user ? 'complete' : 'queued', replyTo: user ? null : `m${seq - 1}` } as const;
  return apiMessage(seq, { ...defaults, createdAt: at, updatedAt: at, ...patch });
}

const view = (s: ConversationState) => s.messages().map((m) => [m.id, m.seq, m.status, m.content]);

describe('ConversationState', () => {
  it('keeps one copy per id, in seq order, whichever source comes first', () => {
    const s = new ConversationState();
    s.applyStored(msg(4, { status: 'streaming', content: 'Hel' }));
    s.applyPage({ messages: [msg(1), msg(2, { status: 'complete', content: 'A' })], version: 4, hasMoreBefore: false }, 'newest');
    s.applyStored(msg(3));
    s.applyStored(msg(3));
    expect(view(s)).toEqual([
      ['m1', 1, 'complete', ''],
      ['m2', 2, 'complete', 'A'],
      ['m3', 3, 'complete', ''],
      ['m4', 4, 'streaming', 'Hel'],
    ]);
  });

  it('moves a message only forward: queued, streaming, then a terminal copy that is final', () => {
    const s = new ConversationState();
    s.applyStored(msg(2, { status: 'streaming', content: 'Hello wor' }));
    s.applyStored(msg(2, { status: 'queued', content: '' }));
    s.applyStored(msg(2, { status: 'streaming', content: 'Hello' })); // an older checkpoint: the longer text stays
    expect(view(s)).toEqual([['m2', 2, 'streaming', 'Hello wor']]);
    s.applyStored(msg(2, { status: 'stopped', content: 'Hello world' }));
    s.applyStored(msg(2, { status: 'streaming', content: 'Hello world and more' }));
    expect(view(s)).toEqual([['m2', 2, 'stopped', 'Hello world']]);
  });

  it('applies a delta only where its offset meets the text held, and reports a gap otherwise', () => {
    const s = new ConversationState();
    s.applyStored(msg(2, { status: 'streaming', content: 'ab' }));
    expect(s.applyDelta('m2', 2, 'cd')).toBe('applied');
    expect(s.applyDelta('m2', 0, 'ab')).toBe('unchanged'); // already held (this tab's own stream was first)
    expect(s.applyDelta('m2', 3, 'de')).toBe('applied'); // overlaps: only the new part is added
    expect(s.applyDelta('m2', 9, 'xyz')).toBe('gap');
    expect(s.applyDelta('nope', 0, 'x')).toBe('unknown');
    expect(s.get('m2')?.content).toBe('abcde');
  });

  it('shows a question at once and puts the server copy in its place by seq', () => {
    const s = new ConversationState();
    s.applyPage({ messages: [msg(1), msg(2, { status: 'complete' })], version: 2, hasMoreBefore: false }, 'newest');
    s.addPending('mine', REPORT, 'My question');
    expect(s.messages().map((m) => [m.id, displayState(m)])).toEqual([
      ['m1', 'saved'],
      ['m2', 'saved'],
      ['mine', 'sending'],
    ]);
    s.applyStored(msg(5, { id: 'mine', content: 'My question' }));
    s.applyStored(msg(3));
    s.applyStored(msg(4, { status: 'queued' }));
    expect(s.messages().map((m) => [m.id, displayState(m)])).toEqual([
      ['m1', 'saved'],
      ['m2', 'saved'],
      ['m3', 'saved'],
      ['m4', 'queued'],
      ['mine', 'saved'],
    ]);
  });

  it('says "not saved" until the server shows the answer stored, and never after', () => {
    const s = new ConversationState();
    s.applyStored(msg(2, { status: 'streaming', content: 'partial' }));
    s.markUnsaved(msg(2, { status: 'complete', content: 'partial text' }), 'commit failed');
    expect(displayState(s.get('m2')!)).toBe('not-saved');
    expect(s.get('m2')?.content).toBe('partial text');
    s.applyStored(msg(2, { status: 'streaming', content: 'partial' })); // a stale live copy changes nothing
    expect(displayState(s.get('m2')!)).toBe('not-saved');
    s.applyStored(msg(2, { status: 'interrupted', content: 'partial', error: 'The server restarted.' }));
    expect(displayState(s.get('m2')!)).toBe('interrupted');
    s.markUnsaved(msg(2, { status: 'complete', content: 'partial text' }), 'late');
    expect(displayState(s.get('m2')!)).toBe('interrupted');
  });

  it('keeps no event copies of messages on pages not loaded yet, and finds holes in the seqs', () => {
    const s = new ConversationState();
    s.applyPage({ messages: [msg(51), msg(52, { status: 'complete' })], version: 60, hasMoreBefore: true }, 'newest');
    expect(s.applyStored(msg(10, { status: 'interrupted' }))).toBe(false);
    s.applyStored(msg(55));
    expect(s.missingRange()).toEqual({ after: 52, count: 2 });
    s.applyPage({ messages: [msg(49), msg(50, { status: 'complete' })], version: 60, hasMoreBefore: false }, 'older');
    expect(s.applyStored(msg(10, { status: 'interrupted' }))).toBe(true);
    expect(s.hasMoreBefore).toBe(false);
  });

  it('drops stored messages on a clear but keeps questions not stored yet', () => {
    const s = new ConversationState();
    s.applyPage({ messages: [msg(1), msg(2, { status: 'complete' })], version: 2, hasMoreBefore: false }, 'newest');
    s.addPending('mine', REPORT, 'Still sending');
    s.clearStored();
    expect(s.messages().map((m) => m.id)).toEqual(['mine']);
  });
});

describe('DeltaRepair', () => {
  it('holds deltas past a gap, reads the message again, then applies them on top of it', async () => {
    const s = new ConversationState();
    s.applyStored(msg(2, { status: 'streaming', content: 'The ' }));
    let stored = 'The quick ';
    const repair = new DeltaRepair({
      apply: (id, offset, text) => s.applyDelta(id, offset, text),
      refetch: async (id) => {
        s.applyStored(msg(2, { id, status: 'streaming', content: stored }));
      },
      isOver: () => false,
    });
    repair.delta('m2', 10, 'brown ');
    repair.delta('m2', 16, 'fox');
    await new Promise((r) => setTimeout(r, 0));
    expect(s.get('m2')?.content).toBe('The quick brown fox');
    stored = 'unused';
    repair.delta('m2', 19, '.');
    expect(s.get('m2')?.content).toBe('The quick brown fox.');
    repair.dispose();
  });
});
