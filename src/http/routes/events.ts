import { Hono } from 'hono';
import type { BusEvent } from '../../chat/bus.js';
import { openEvents } from '../../chat/conversation.js';
import type { ChatContext } from '../../chat/context.js';
import { toApiMessage } from '../../chat/message-view.js';
import type { MessageRow } from '../../store/types.js';
import { AppError } from '../../errors/app-error.js';
import type { AppEnv } from '../env.js';
import { uuidParam } from '../request.js';
import { sseResponse } from '../sse.js';

const PING_MS = 15_000;

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
export function eventRoutes(ctx: ChatContext, streams: { open: number }) {
  const app = new Hono<AppEnv>();
  app.get('/:reportId/events', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const since = resumeVersion(c.req.header('last-event-id'), c.req.query('after'));
    const { report, changesAfter } = await openEvents(ctx, c.get('caller'), reportId);
    return sseResponse(
      {},
      async (w) => {
        streams.open++;
        w.onClose(() => streams.open--);
        let lastVersion = since ?? -1;
        const writeMessage = (m: MessageRow) => {
          if (m.changedVersion <= lastVersion) return; // already sent by the resume read
          lastVersion = m.changedVersion;
          w.write(`event: message\nid: ${m.changedVersion}\ndata: ${JSON.stringify(toApiMessage(m, report.id))}\n\n`);
        };
        const writeEvent = (event: BusEvent) => {
          if (event.type === 'message') writeMessage(event.message);
          else if (event.type === 'delta') {
            w.write(`event: delta\ndata: ${JSON.stringify({ id: event.messageId, offset: event.offset, text: event.text })}\n\n`);
          } else if (event.type === 'cleared' && event.version > lastVersion) {
            lastVersion = event.version;
            w.write(`event: cleared\nid: ${event.version}\ndata: ${JSON.stringify({ version: event.version })}\n\n`);
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
          for (const m of changes.messages) writeMessage(m);
        } else {
          lastVersion = -1;
        }
        for (const event of held) writeEvent(event);
        held = undefined;
        const ping = setInterval(() => w.write(': ping\n\n'), PING_MS);
        w.onClose(() => clearInterval(ping));
        await new Promise<void>((resolve) => w.onClose(resolve));
      },
      (err) => ctx.log.error({ err, reportId }, 'events stream failed'),
    );
  });
  return app;
}
