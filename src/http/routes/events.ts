import { Hono } from 'hono';
import type { BusEvent } from '../../chat/bus.js';
import { openEvents } from '../../chat/conversation.js';
import type { ChatContext } from '../../chat/context.js';
import { toApiMessage } from '../../chat/message-view.js';
import type { MessageRow } from '../../store/types.js';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';
import { uuidParam } from '../request.js';
import { SseFrame, sseResponse } from '../sse.js';

const PING_MS = 15_000;
// Access is checked again this often, so a member removed on another instance loses the stream soon after.
/** Open events streams per user on one instance: enough for many tabs, not enough to exhaust the server. */
export const MAX_STREAMS_PER_USER = 20;

/**
 * The SSE text of a bus event, built once per event rather than once per subscriber: the bus hands the same event
 * object to every subscriber of a conversation, and the text depends only on the event (and, for a message, on
 * the report id, which is the conversation's). Which events a subscriber sends stays its own decision (versions,
 * offsets, revocations). Weak keys: an entry goes away with its event.
 */
const frames = new WeakMap<BusEvent, { reportId: string; frame: SseFrame }>();

function frameOf(event: BusEvent, reportId: string): SseFrame {
  const cached = frames.get(event);
  if (cached?.reportId === reportId) return cached.frame;
  const frame = new SseFrame(eventText(event, reportId));
  frames.set(event, { reportId, frame });
  return frame;
}

const messageText = (m: MessageRow, reportId: string) =>
  `event: message\nid: ${m.changedVersion}\ndata: ${JSON.stringify(toApiMessage(m, reportId))}\n\n`;

function eventText(event: BusEvent, reportId: string): string {
  switch (event.type) {
    case 'message':
      return messageText(event.message, reportId);
    case 'delta':
      return `event: delta\ndata: ${JSON.stringify({ id: event.messageId, offset: event.offset, text: event.text })}\n\n`;
    case 'cleared':
      return `event: cleared\nid: ${event.version}\ndata: ${JSON.stringify({ version: event.version })}\n\n`;
    default:
      throw new Error(`no SSE text for a ${event.type} event`);
  }
}

export interface StreamCounts {
  open: number;
  perUser: Map<string, number>;
}

function resumeVersion(lastEventId: string | undefined, after: string | undefined): number | undefined {
  const raw = lastEventId ?? after;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw.trim())) throw new AppError('invalid_request', 'Last-Event-ID (or "after") must be a version number.');
  return Number(raw.trim());
}

/**
 * GET /api/reports/:reportId/events: every change of the conversation, live. With Last-Event-ID (or ?after=) it
 * first replays what changed since that version, then continues live without a gap or a repeat.
 */
export function eventRoutes(ctx: ChatContext, streams: StreamCounts) {
  const app = new Hono<AppEnv>();
  app.get('/:reportId/events', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const since = resumeVersion(c.req.header('last-event-id'), c.req.query('after'));
    const caller = c.get('caller');
    const { report, changesAfter, watchAccess } = await openEvents(ctx, caller, reportId);
    const mine = streams.perUser.get(caller.id) ?? 0;
    if (mine >= MAX_STREAMS_PER_USER) {
      throw new AppError('rate_limited', `At most ${MAX_STREAMS_PER_USER} live update streams may be open at once; close some tabs.`, {
        headers: { 'Retry-After': '5' },
      });
    }
    streams.perUser.set(caller.id, mine + 1);
    streams.open++;
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      streams.open--;
      const n = (streams.perUser.get(caller.id) ?? 1) - 1;
      if (n <= 0) streams.perUser.delete(caller.id);
      else streams.perUser.set(caller.id, n);
    };
    return sseResponse(
      {},
      async (w) => {
        w.onClose(release);
        let lastVersion = since ?? -1;
        const frame = (event: BusEvent) => frameOf(event, report.id);
        /** `event`: the bus event carrying `m`, whose text other subscribers share; none for a resume read's row. */
        const writeMessage = (m: MessageRow, event?: BusEvent) => {
          if (m.changedVersion <= lastVersion) return; // already sent by the resume read
          lastVersion = m.changedVersion;
          w.write(event ? frame(event) : messageText(m, report.id));
        };
        // A resumed answer that this instance is generating is sent with its live text, not its last checkpoint;
        // deltas already contained in that text are then skipped, so the client can apply the next one directly.
        const sentUpTo = new Map<string, number>();
        const withLiveText = (m: MessageRow): MessageRow => {
          const live = m.status === 'streaming' ? ctx.engine.liveTurn(m.id) : undefined;
          if (!live) return m;
          sentUpTo.set(m.id, live.text.length);
          return { ...m, content: live.text };
        };
        const writeEvent = (event: BusEvent) => {
          if (event.type === 'message') writeMessage(event.message, event);
          else if (event.type === 'delta') {
            if (event.offset < (sentUpTo.get(event.messageId) ?? 0)) return;
            w.write(frame(event));
          } else if (event.type === 'revoked' && event.userId === caller.id) {
            w.close();
          } else if (event.type === 'cleared' && event.version > lastVersion) {
            lastVersion = event.version;
            w.write(frame(event));
          }
        };
        // Subscribe first and hold live events while the resume read runs: nothing falls between the two.
        let held: BusEvent[] | undefined = [];
        const unsubscribe = ctx.bus.subscribe(report.conversationId, (event) => (held ? held.push(event) : writeEvent(event)));
        w.onClose(unsubscribe);
        w.write(': connected\n\n');
        if (since !== undefined) {
          const changes = await changesAfter(since);
          if (changes.cleared !== undefined) writeEvent({ type: 'cleared', conversationId: report.conversationId, version: changes.cleared });
          lastVersion = since;
          for (const m of changes.messages) writeMessage(withLiveText(m));
        } else {
          lastVersion = -1;
        }
        for (const event of held) writeEvent(event);
        held = undefined;
        const ping = setInterval(() => w.write(': ping\n\n'), PING_MS);
        const unwatch = watchAccess(c.get('credential'), () => w.close());
        w.onClose(() => {
          clearInterval(ping);
          unwatch();
        });
        await new Promise<void>((resolve) => w.onClose(resolve));
      },
      (err) => {
        release();
        ctx.log.error({ err, reportId }, 'events stream failed');
      },
    );
  });
  return app;
}
