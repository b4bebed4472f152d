import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { clearConversation, exportConversation, exportMarkdown, listMessages } from '../../chat/conversation.js';
import type { ChatContext } from '../../chat/context.js';
import { rateLimitHeaders } from '../../chat/rate-limit.js';
import { toApiMessage } from '../../chat/message-view.js';
import { sendMessage, type SentTurn } from '../../chat/send-message.js';
import { stopAnswer } from '../../chat/stop-answer.js';
import { AppError } from '../../errors/app-error.js';
import type { StoredSource } from '../../store/types.js';
import type { AppEnv } from '../env.js';
import { parseQuery, readJson, uuidParam, versionHeader } from '../request.js';
import { pageQuery, sendMessageBody, uuidSchema } from '../schemas.js';
import { sourceDocumentChunk } from '../source-chunk.js';
import { sseResponse } from '../sse.js';

export function messageRoutes(ctx: ChatContext) {
  const app = new Hono<AppEnv>();

  app.get('/:reportId/messages', async (c) => {
    const q = parseQuery(c, pageQuery);
    const page = await listMessages(ctx, c.get('caller'), uuidParam(c, 'reportId'), q);
    const etag = `"${page.version}"`;
    c.header('ETag', etag);
    c.header('Cache-Control', 'private, no-cache');
    if (versionHeaderSafe(c) === page.version) return c.body(null, 304);
    return c.json(page);
  });

  app.post('/:reportId/messages', async (c) => {
    const reportId = uuidParam(c, 'reportId');
    const body = await readJson(c, sendMessageBody);
    const headerKey = c.req.header('idempotency-key');
    if (headerKey !== undefined && !uuidSchema.safeParse(headerKey).success) {
      throw new AppError('invalid_request', 'Idempotency-Key must be a UUID.');
    }
    if (headerKey && body.id && headerKey.toLowerCase() !== body.id.toLowerCase()) {
      throw new AppError('invalid_request', 'The Idempotency-Key header and the body "id" differ.');
    }
    const messageId = (body.id ?? headerKey ?? randomUUID()).toLowerCase();
    const ifMatch = versionHeader(c, 'if-match');
    const turn = await sendMessage(ctx, c.get('caller'), { reportId, messageId, content: body.content, ifMatch });
    const headers: Record<string, string> = turn.replayed ? { 'Idempotent-Replayed': 'true' } : rateLimitHeaders(turn.limits);
    return wantsJson(c.req.header('accept')) ? jsonTurn(c, turn, headers) : streamTurn(ctx, turn, headers);
  });

  app.post('/:reportId/messages/:messageId/stop', async (c) => {
    const { reportId, message } = await stopAnswer(ctx, c.get('caller'), {
      reportId: uuidParam(c, 'reportId'),
      messageId: uuidParam(c, 'messageId'),
    });
    return c.json({ message: toApiMessage(message, reportId) });
  });

  app.delete('/:reportId/messages', async (c) => {
    await clearConversation(ctx, c.get('caller'), uuidParam(c, 'reportId'), versionHeader(c, 'if-match'));
    return c.body(null, 204);
  });

  app.get('/:reportId/export', async (c) => {
    const format = c.req.query('format') ?? 'markdown';
    if (format !== 'markdown' && format !== 'json') {
      throw new AppError('invalid_request', '"format" must be markdown or json.');
    }
    const { report, version, messages } = await exportConversation(ctx, c.get('caller'), uuidParam(c, 'reportId'));
    const base = `conversation-${report.id}`;
    if (format === 'json') {
      c.header('Content-Disposition', `attachment; filename="${base}.json"`);
      return c.json({ report: { id: report.id, title: report.title }, version, exportedAt: new Date().toISOString(), messages });
    }
    c.header('Content-Disposition', `attachment; filename="${base}.md"`);
    c.header('Content-Type', 'text/markdown; charset=utf-8');
    return c.body(exportMarkdown(report.title, messages));
  });

  return app;
}

function versionHeaderSafe(c: Context): number | undefined {
  // A malformed If-None-Match is not an error: it just never matches.
  try {
    return versionHeader(c, 'if-none-match');
  } catch {
    return undefined;
  }
}

/** JSON only when the client asks for it and not for an event stream. */
function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return /application\/json/i.test(accept) && !/text\/event-stream/i.test(accept);
}

async function jsonTurn(c: Context, turn: SentTurn, headers: Record<string, string>): Promise<Response> {
  const following = await turn.follow(() => {});
  const outcome = await following.done;
  return c.json(
    {
      userMessage: toApiMessage(turn.userMessage, turn.reportId),
      assistantMessage: toApiMessage(outcome.message, turn.reportId),
      saved: outcome.saved,
    },
    turn.replayed ? 200 : 201,
    headers,
  );
}

/**
 * API.md's UI message stream: start, data-turn, text-start, deltas, text-end, [error], data-saved, finish, [DONE].
 * Each source is a `source-document` chunk after the delta holding its `[n]` marker and before text-end.
 */
function streamTurn(ctx: ChatContext, turn: SentTurn, headers: Record<string, string>): Response {
  const id = turn.assistantMessage.id;
  return sseResponse(
    { 'x-vercel-ai-ui-message-stream': 'v1', ...headers },
    async (w) => {
      w.data({ type: 'start', messageId: id });
      w.data({
        type: 'data-turn',
        data: {
          userMessage: toApiMessage(turn.userMessage, turn.reportId),
          assistantMessage: toApiMessage(turn.assistantMessage, turn.reportId),
        },
      });
      w.data({ type: 'text-start', id });
      // Deltas and sources that arrive before what there is so far is written wait, so the stream is never out of order.
      let pending: Array<{ delta: string } | { source: StoredSource }> | undefined = [];
      const sent = new Set<number>();
      const writeDelta = (delta: string) => {
        if (delta) w.data({ type: 'text-delta', id, delta });
      };
      const writeSource = (source: StoredSource) => {
        if (sent.has(source.n)) return;
        sent.add(source.n);
        w.data(sourceDocumentChunk(id, source));
      };
      const following = await turn.follow(
        (delta) => (pending ? pending.push({ delta }) : writeDelta(delta)),
        (source) => (pending ? pending.push({ source }) : writeSource(source)),
      );
      writeDelta(following.textSoFar);
      for (const source of following.sourcesSoFar) writeSource(source);
      for (const item of pending) {
        if ('delta' in item) writeDelta(item.delta);
        else writeSource(item.source);
      }
      pending = undefined;
      // The client leaving stops only this stream; the answer goes on and is stored.
      w.onClose(() => following.unsubscribe());
      const outcome = await following.done;
      // Sources this stream did not hear of live (an answer generated on another instance) come with the final message.
      for (const source of outcome.message.sources) writeSource(source);
      w.data({ type: 'text-end', id });
      if (outcome.message.status === 'failed') {
        w.data({ type: 'error', errorText: outcome.message.error ?? 'The model failed to answer.' });
      }
      w.data({ type: 'data-saved', data: { saved: outcome.saved, message: toApiMessage(outcome.message, turn.reportId) } });
      w.data({ type: 'finish' });
      w.write('data: [DONE]\n\n');
    },
    (err) => ctx.log.error({ err, messageId: id }, 'turn stream failed'),
  );
}
