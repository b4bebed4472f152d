import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import type { ChatContext } from '../../chat/context.js';
import { openConversation, type ConversationEvent } from '../../chat/follow-conversation.js';
import { toApiMessage } from '../../chat/message-view.js';
import { AppError } from '../../errors/app-error.js';
import { routesApp } from '../request.js';
import type { Scope } from '../conversation-scope.js';
import { errors, SECURITY, SERVER_ERRORS } from '../route-parts.js';
import { nodeResponseOf, SseFrame, sseResponse } from '../sse.js';

const PING_MS = 15_000;
/** Open events streams per user on one instance: enough for many tabs, not enough to exhaust the server. */
export const MAX_STREAMS_PER_USER = 20;

type FramedEvent = Exclude<ConversationEvent, { type: 'end' }>;

/**
 * The SSE text of an event, built once per event rather than once per subscriber: every follower of a conversation
 * is handed the same live event object (src/chat/follow-conversation.ts), and the text depends only on the event
 * (and, for a message, on the report id, which is the conversation's). Which events a subscriber is sent stays the
 * follower's decision (versions, offsets, revocations). Weak keys: an entry goes away with its event.
 */
const frames = new WeakMap<FramedEvent, { reportId: string; frame: SseFrame }>();

function frameOf(event: FramedEvent, reportId: string): SseFrame {
  const cached = frames.get(event);
  if (cached?.reportId === reportId) return cached.frame;
  const frame = new SseFrame(eventText(event, reportId));
  frames.set(event, { reportId, frame });
  return frame;
}

function eventText(event: FramedEvent, reportId: string): string {
  switch (event.type) {
    case 'message':
      return `event: message\nid: ${event.message.changedVersion}\ndata: ${JSON.stringify(toApiMessage(event.message, reportId))}\n\n`;
    case 'delta':
      return `event: delta\ndata: ${JSON.stringify({ id: event.messageId, offset: event.offset, text: event.text })}\n\n`;
    case 'cleared':
      return `event: cleared\nid: ${event.version}\ndata: ${JSON.stringify({ version: event.version })}\n\n`;
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

const VERSION_PATTERN = '^[0-9]{1,15}$';

const exampleMessage = {
  id: '0b7a5f0e-3c1d-4b8e-9a51-2f4d7c9e6a10',
  reportId: '5e0c2a8b-6f1d-4c3e-8b7a-9d2f1e0c4b3a',
  conversationId: '3d9b1c7e-2a4f-4e6b-8c1d-0f5e7a9b2c4d',
  seq: 2,
  role: 'assistant',
  content: '',
  status: 'streaming',
  replyTo: '7c1e9d2a-4b3f-4e8a-b6c5-1a0f2e3d4c5b',
  error: null,
  sources: [],
  context: null,
  reportRevision: null,
  copiedFrom: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:04.000Z',
};

const EVENTS_EXAMPLE = [
  ': connected',
  `event: message\nid: 13\ndata: ${JSON.stringify(exampleMessage)}`,
  'event: delta\ndata: {"id":"0b7a5f0e-3c1d-4b8e-9a51-2f4d7c9e6a10","offset":0,"text":"The pool was "}',
  ': ping',
  'event: cleared\nid: 20\ndata: {"version":20}',
  '',
].join('\n\n');

const EVENTS_DESCRIPTION = `Every change of the conversation, live, as Server-Sent Events:

- \`event: message\`, \`id: <version>\`, \`data: <Message>\`: on every creation and status change, and with the final content.
- \`event: delta\`, \`data: {"id", "offset", "text"}\`: text appended to a streaming answer. \`offset\` is the length (UTF-16 code units) of the content before \`text\`: apply a delta only where \`offset\` equals what you hold, otherwise fetch the message again.
- \`event: cleared\`, \`id: <version>\`, \`data: {"version"}\`: the conversation was cleared.
- Comments: \`: connected\` when the stream opens, \`: ping\` at least every 15 s.

With \`Last-Event-ID\` (or \`?after=\`) the stream first sends a \`message\` event for every message changed after that version (a streaming answer with the text of its last checkpoint), in version order, then live events, without a gap or a repeat. Events reach subscribers on every server instance that shares the database.`;

// Last-Event-ID and `after` are checked together by resumeVersion (the header wins, an empty one is absent), so
// their schemas only document them.
function routesOf<K extends 'reportId' | 'conversationId'>(scope: Scope<K>) {
  const eventsRoute = createRoute({
    method: 'get',
    path: `${scope.path}/events`,
    operationId: scope.operationId('streamEvents'),
    tags: [scope.tag],
    summary: 'Live updates',
    description: `A Server-Sent Events stream of every change of the conversation, for every open tab. The stream closes when you lose access to the ${scope.key === 'reportId' ? 'report' : 'conversation (removed from the report, the conversation deleted or made private by someone else)'}.`,
    security: SECURITY.user,
    request: {
      params: scope.params,
      headers: z.object({
        'Last-Event-ID': z
          .string()
          .optional()
          .meta({
            pattern: VERSION_PATTERN,
            example: '12',
            param: {
              description:
                'The `id` (a version) of the last event you saw: the stream first replays every message changed after it. Browsers send it when they reconnect.',
            },
          }),
      }),
      query: z.object({
        after: z
          .string()
          .optional()
          .meta({ pattern: VERSION_PATTERN, param: { description: 'The same as `Last-Event-ID`, for clients that cannot set headers. The header wins.' } }),
      }),
    },
    responses: {
      200: {
        description: 'The event stream.',
        content: { 'text/event-stream': { schema: z.string().meta({ description: EVENTS_DESCRIPTION }), example: EVENTS_EXAMPLE } },
      },
      ...errors(
        ['invalid_request', `\`Last-Event-ID\` (or \`after\`) is not a version number, or \`${scope.key}\` is not a UUID.`],
        'unauthorized',
        ['not_found', scope.notFound],
        ['rate_limited', 'You have 20 streams open on this server instance; close some tabs.'],
        ...SERVER_ERRORS,
      ),
    },
  });
  return { eventsRoute };
}

/**
 * GET …/events: every change of the conversation, live. With Last-Event-ID (or ?after=) it first replays what
 * changed since that version, then continues live without a gap or a repeat.
 */
export function eventRoutes<K extends 'reportId' | 'conversationId'>(ctx: ChatContext, streams: StreamCounts, scope: Scope<K>) {
  const app = routesApp();
  const { eventsRoute } = routesOf(scope);
  app.openapi(eventsRoute, async (c) => {
    const where = scope.where(c.req.valid('param'));
    const since = resumeVersion(c.req.header('last-event-id'), c.req.query('after'));
    const caller = c.get('caller');
    const { report, follow } = await openConversation(ctx, caller, where);
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
        const events = follow({ since, credential: c.get('credential') });
        w.onClose(() => events.close());
        w.write(': connected\n\n');
        const ping = setInterval(() => w.write(': ping\n\n'), PING_MS);
        w.onClose(() => clearInterval(ping));
        // Each event is written as it is pushed, in the publisher's own turn (no await per event per follower).
        await events.deliver((event) => {
          // The reader lost access: the stream ends, after what was sent before.
          if (event.type === 'end') {
            events.close();
            return;
          }
          w.write(frameOf(event, report.id));
        });
      },
      (err) => {
        release();
        ctx.log.error({ err, ...where }, 'events stream failed');
      },
      nodeResponseOf(c),
    );
  });
  return app;
}
