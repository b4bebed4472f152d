import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/errors.js';
import type { ConversationRef, Message } from '../api/types.js';
import type { EventsConnection, EventsHandlers, LiveStatus } from './events-connection.js';
import { connectSharedEvents } from './shared-events.js';
import type { Channel, Locks, SharedEventsEnv } from './shared-events-env.js';
import { apiMessage } from './message-fixture.js';

/** Tabs of one browser, in one process: channels deliver later and in order; locks are granted first come, first served. */
class FakeBrowser {
  private readonly channels = new Set<{ name: string; channel: Channel; open: boolean }>();
  private readonly held = new Map<string, { release: () => void } | undefined>();
  private readonly waiting = new Map<string, Array<{ grant: () => void; signal?: AbortSignal }>>();
  readonly streams: Array<{ conversation: ConversationRef; after: number; handlers: EventsHandlers; closed: boolean }> = [];

  env(options: { locks?: boolean; freezer?: Freezer } = {}): SharedEventsEnv {
    return {
      locks: options.locks === false ? undefined : this.locks,
      watchFreezing: (onChange) => {
        if (options.freezer) options.freezer.set = onChange;
        return () => {};
      },
      channel: (name) => this.channel(name),
      connect: (conversation, after, handlers): EventsConnection => {
        const stream = { conversation, after, handlers, closed: false };
        this.streams.push(stream);
        handlers.onStatus('connecting');
        return { reconnectNow: () => {}, close: () => ((stream.closed = true), handlers.onStatus('closed')) };
      },
    };
  }

  /** The browser takes the lock back from a tab that went away without a word (closed, discarded, crashed). */
  crash(name: string, tabChannels: number): void {
    this.held.get(name)?.release();
    let n = 0;
    for (const c of this.channels) if (c.name === name && c.open && n++ < tabChannels) c.open = false;
  }

  /** A channel of the test's own, to post notes as some other tab would. */
  channel(name: string): Channel {
    const entry = {
      name,
      open: true,
      channel: {
        onmessage: null as Channel['onmessage'],
        postMessage: (note: unknown) => {
          const copy = structuredClone(note);
          for (const other of this.channels) {
            if (other === entry || other.name !== name || !other.open) continue;
            setTimeout(() => other.open && other.channel.onmessage?.({ data: copy } as MessageEvent));
          }
        },
        close: () => {
          entry.open = false;
        },
      },
    };
    this.channels.add(entry);
    return entry.channel;
  }

  private readonly locks: Locks = {
    request: (name, options, whileHeld) =>
      new Promise((resolve, reject) => {
        const grant = () => {
          let released = false;
          const release = () => {
            if (released) return;
            released = true;
            this.held.set(name, undefined);
            const next = this.waiting.get(name)?.shift();
            if (next) next.grant();
          };
          this.held.set(name, { release });
          void whileHeld().then(() => {
            release();
            resolve(undefined);
          });
        };
        if (options.signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
        if (!this.held.get(name)) return grant();
        const queue = this.waiting.get(name) ?? [];
        const entry = { grant, signal: options.signal };
        queue.push(entry);
        this.waiting.set(name, queue);
        options.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(entry);
          if (i >= 0) queue.splice(i, 1);
          reject(new DOMException('aborted', 'AbortError'));
        });
      }),
  };
}

/** Freezes a tab and lets it run again, as the browser's page lifecycle events would. */
interface Freezer {
  set?: (frozen: boolean) => void;
}

/** What a tab's conversation store hears, and the highest version it has seen (what it resumes from if it leads). */
class Tab {
  version: number;
  messages: Array<[string, number, string]> = [];
  deltas: string[] = [];
  cleared: number[] = [];
  statuses: LiveStatus[] = [];
  fatal: number[] = [];
  connection: EventsConnection;

  constructor(
    browser: FakeBrowser,
    user: string,
    version: number,
    options: { conversation?: ConversationRef; locks?: boolean; freezer?: Freezer } = {},
  ) {
    this.version = version;
    // A report id: that report's main conversation.
    const target = { conversation: options.conversation ?? 'report-1', userId: user, version: () => this.version };
    this.connection = connectSharedEvents(
      target,
      {
        onMessage: (m, v) => {
          this.version = Math.max(this.version, v);
          this.messages.push([m.id, v, m.content]);
        },
        onDelta: (d) => void this.deltas.push(`${d.id}@${d.offset}:${d.text}`),
        onCleared: (v) => void this.cleared.push(v),
        onStatus: (s) => void this.statuses.push(s),
        onFatal: (err) => void this.fatal.push(err.status),
      },
      browser.env(options),
    );
  }

  get status(): LiveStatus | undefined {
    return this.statuses.at(-1);
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
};

const msg = (id: string, content: string, status: Message['status'] = 'complete'): Message =>
  apiMessage(1, { id, reportId: 'report-1', role: 'assistant', content, status });

const NAME = 'report-chat:events:u1:report:report-1';
let tabs: Tab[] = [];
const open = (...args: ConstructorParameters<typeof Tab>) => {
  const tab = new Tab(...args);
  tabs.push(tab);
  return tab;
};

afterEach(() => {
  for (const tab of tabs) tab.connection.close();
  tabs = [];
});

describe('connectSharedEvents', () => {
  it('opens one stream for the tabs of one user and report, and relays every call to them all', async () => {
    const browser = new FakeBrowser();
    const a = open(browser, 'u1', 3);
    await settle();
    const b = open(browser, 'u1', 3);
    await settle();
    expect(browser.streams.map((s) => s.after)).toEqual([3]);

    const leader = browser.streams[0]!.handlers;
    leader.onStatus('live');
    leader.onMessage(msg('m1', ''), 4);
    leader.onDelta({ id: 'm1', offset: 0, text: 'Hi' });
    leader.onCleared(5);
    await settle();
    for (const tab of [a, b]) {
      expect(tab.messages).toEqual([['m1', 4, '']]);
      expect(tab.deltas).toEqual(['m1@0:Hi']);
      expect(tab.cleared).toEqual([5]);
      expect(tab.status).toBe('live');
    }
  });

  it('catches a late joiner up on what it missed, with the live text of a streaming answer', async () => {
    const browser = new FakeBrowser();
    open(browser, 'u1', 3);
    await settle();
    const leader = browser.streams[0]!.handlers;
    leader.onStatus('live');
    leader.onMessage(msg('q', 'question?'), 4);
    leader.onMessage(msg('a', '', 'streaming'), 5);
    leader.onDelta({ id: 'a', offset: 0, text: 'Part one, ' });
    const late = open(browser, 'u1', 4); // its history was read at version 4
    await settle();
    expect(late.messages).toEqual([['a', 5, 'Part one, ']]);
    expect(late.status).toBe('live');
    leader.onDelta({ id: 'a', offset: 10, text: 'part two.' });
    await settle();
    expect(late.deltas).toEqual(['a@10:part two.']);
    expect(browser.streams).toHaveLength(1);
  });

  it('starts the stream again from a joiner’s version when that is older than where the stream started', async () => {
    const browser = new FakeBrowser();
    open(browser, 'u1', 10);
    await settle();
    open(browser, 'u1', 7);
    await settle();
    expect(browser.streams.map((s) => [s.after, s.closed])).toEqual([
      [10, true],
      [7, false],
    ]);
  });

  it('keeps the streams of different users, reports and conversations apart', async () => {
    const browser = new FakeBrowser();
    const a = open(browser, 'u1', 3);
    const other = open(browser, 'u2', 3);
    open(browser, 'u1', 3, { conversation: 'report-2' });
    const fork = open(browser, 'u1', 3, { conversation: { conversationId: 'conversation-2' } });
    const forkTwin = open(browser, 'u1', 3, { conversation: { conversationId: 'conversation-2' } });
    await settle();
    expect(browser.streams.map((s) => s.conversation)).toEqual(['report-1', 'report-1', 'report-2', { conversationId: 'conversation-2' }]);
    browser.streams[0]!.handlers.onMessage(msg('m1', 'secret'), 4);
    browser.streams[3]!.handlers.onMessage(msg('m9', 'in the fork'), 4);
    await settle();
    expect(a.messages).toEqual([['m1', 4, 'secret']]);
    expect(other.messages).toHaveLength(0);
    // Two tabs of the fork share its one stream; neither hears the main conversation's.
    expect(fork.messages).toEqual([['m9', 4, 'in the fork']]);
    expect(forkTwin.messages).toEqual([['m9', 4, 'in the fork']]);
  });

  for (const how of ['closes the report', 'goes without a word'] as const) {
    it(`when the leader ${how}, the next tab resumes from the highest version it has seen`, async () => {
      const browser = new FakeBrowser();
      const a = open(browser, 'u1', 3);
      await settle();
      const b = open(browser, 'u1', 3);
      const c = open(browser, 'u1', 3);
      await settle();
      const first = browser.streams[0]!.handlers;
      first.onStatus('live');
      first.onMessage(msg('m1', 'x'), 9);
      await settle();
      if (how === 'closes the report') a.connection.close();
      else browser.crash(NAME, 1);
      await settle();
      expect(browser.streams.map((s) => s.after)).toEqual([3, 9]);
      const second = browser.streams[1]!.handlers;
      second.onStatus('live');
      second.onMessage(msg('m2', 'y'), 10);
      await settle();
      expect(b.messages.map((m) => m[0])).toEqual(['m1', 'm2']);
      expect(c.messages.map((m) => m[0])).toEqual(['m1', 'm2']);
      expect(c.status).toBe('live');
    });
  }

  it('tells every tab when the report is gone, and no tab opens the stream again', async () => {
    const browser = new FakeBrowser();
    const a = open(browser, 'u1', 3);
    await settle();
    const b = open(browser, 'u1', 3);
    await settle();
    browser.streams[0]!.handlers.onFatal(new ApiError(404, 'not_found', 'This report does not exist.'));
    await settle();
    for (const tab of [a, b]) {
      expect(tab.fatal).toEqual([404]);
      expect(tab.status).toBe('closed');
    }
    expect(browser.streams).toHaveLength(1);
  });

  it('lets the next tab try its own credentials when the leader’s are refused (401)', async () => {
    const browser = new FakeBrowser();
    const a = open(browser, 'u1', 3);
    await settle();
    const b = open(browser, 'u1', 3);
    await settle();
    browser.streams[0]!.handlers.onFatal(new ApiError(401, 'unauthorized', 'Sign in again.'));
    await settle();
    expect(a.fatal).toEqual([401]);
    expect(b.fatal).toEqual([]);
    expect(browser.streams).toHaveLength(2);
  });

  it('gives each tab its own stream without Web Locks', async () => {
    const browser = new FakeBrowser();
    open(browser, 'u1', 3, { locks: false });
    open(browser, 'u1', 4, { locks: false });
    await settle();
    expect(browser.streams.map((s) => s.after)).toEqual([3, 4]);
  });

  it('hands over when the leader tab is frozen, and catches it up when it runs again', async () => {
    const browser = new FakeBrowser();
    const freezer: Freezer = {};
    const a = open(browser, 'u1', 3, { freezer });
    await settle();
    const b = open(browser, 'u1', 3);
    await settle();
    browser.streams[0]!.handlers.onStatus('live');
    freezer.set?.(true);
    await settle();
    expect(browser.streams.map((s) => [s.after, s.closed])).toEqual([
      [3, true],
      [3, false],
    ]);
    const second = browser.streams[1]!.handlers;
    second.onStatus('live');
    second.onMessage(msg('m1', 'while frozen'), 4);
    await settle();
    expect(b.messages).toEqual([['m1', 4, 'while frozen']]);
    // A frozen page runs nothing: say it heard nothing meanwhile.
    a.messages = [];
    a.version = 3;
    freezer.set?.(false);
    await settle();
    expect(a.messages).toEqual([['m1', 4, 'while frozen']]);
    expect(a.status).toBe('live');
    expect(browser.streams).toHaveLength(2);
  });

  it('takes no notice of a resignation that arrives after the next leader has spoken', async () => {
    const browser = new FakeBrowser();
    const other = browser.channel(NAME);
    const b = new Tab(browser, 'u1', 3, { locks: true });
    tabs.push(b);
    await settle(); // b leads: it is alone
    const c = open(browser, 'u1', 3);
    await settle();
    browser.streams[0]!.handlers.onStatus('live');
    await settle();
    other.postMessage({ kind: 'resign', from: 'a tab that led before' });
    await settle();
    expect(c.status).toBe('live');
  });
});
