import { describe, expect, it } from 'vitest';
import { CatchUpLog } from './catch-up-log.js';
import { apiMessage } from './message-fixture.js';

const msg = apiMessage;

const brief = (log: CatchUpLog, version: number) =>
  log.since(version)?.map((e) => {
    if (e.type === 'message') return [e.version, e.message.id, e.message.status, e.message.content];
    return e.type === 'cleared' ? [e.version, 'cleared'] : ['delta'];
  });

describe('CatchUpLog', () => {
  it('gives a joiner the newest copy of each message changed after its version, in version order', () => {
    const log = new CatchUpLog(10);
    log.record({ type: 'message', version: 11, message: msg(1, { content: 'q' }) });
    log.record({ type: 'message', version: 12, message: msg(2, { status: 'streaming' }) });
    log.record({ type: 'delta', id: 'm2', offset: 0, text: 'Hel' });
    log.record({ type: 'delta', id: 'm2', offset: 3, text: 'lo' });
    expect(brief(log, 10)).toEqual([
      [11, 'm1', 'complete', 'q'],
      [12, 'm2', 'streaming', 'Hello'],
    ]);
    expect(brief(log, 11)).toEqual([[12, 'm2', 'streaming', 'Hello']]);
    log.record({ type: 'message', version: 13, message: msg(2, { content: 'Hello!' }) });
    log.record({ type: 'delta', id: 'm2', offset: 6, text: 'late' }); // over: ignored
    expect(brief(log, 12)).toEqual([[13, 'm2', 'complete', 'Hello!']]);
    expect(brief(log, 13)).toEqual([]);
  });

  it('cannot serve a tab that has seen less than the stream started from, until rewound', () => {
    const log = new CatchUpLog(10);
    expect(log.since(9)).toBeUndefined();
    log.rewind(9);
    expect(log.since(9)).toEqual([]);
  });

  it('keeps a resumed stream’s older copy from replacing a newer one', () => {
    const log = new CatchUpLog(5);
    log.record({ type: 'message', version: 8, message: msg(2, { content: 'new' }) });
    log.record({ type: 'message', version: 7, message: msg(2, { content: 'old', status: 'streaming' }) });
    expect(brief(log, 5)).toEqual([[8, 'm2', 'complete', 'new']]);
  });

  it('after a clear, gives the clear first and only what came after it', () => {
    const log = new CatchUpLog(0);
    log.record({ type: 'message', version: 1, message: msg(1) });
    log.record({ type: 'cleared', version: 2 });
    log.record({ type: 'message', version: 3, message: msg(1, { id: 'n1', content: 'after' }) });
    expect(brief(log, 0)).toEqual([
      [2, 'cleared'],
      [3, 'n1', 'complete', 'after'],
    ]);
    expect(brief(log, 2)).toEqual([[3, 'n1', 'complete', 'after']]);
  });

  it('forgets the oldest change past its bound, and no longer claims to cover it', () => {
    const log = new CatchUpLog(0);
    for (let v = 1; v <= 201; v++) log.record({ type: 'message', version: v, message: msg(v) });
    expect(log.since(0)).toBeUndefined();
    expect(log.since(1)).toHaveLength(200);
  });
});
