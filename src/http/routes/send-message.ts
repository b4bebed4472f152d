import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { sendMessageBody, turnSchema } from '../../api/schemas.js';
import type { ChatContext } from '../../chat/context.js';
import { toApiMessage } from '../../chat/message-view.js';
import { rateLimitHeaders } from '../../chat/rate-limit.js';
import { sendMessage, type SentTurn } from '../../chat/send-message.js';
import { streamTurn, type TurnStreamEvent } from '../../chat/turn-stream.js';
import { AppError } from '../../errors/app-error.js';
import { jsonBody, routesApp } from '../request.js';
import type { Scope } from '../conversation-scope.js';
import { errors, ifMatchHeader, json, jsonRequest, RATE_LIMIT_HEADERS, SECURITY } from '../route-parts.js';
import { sourceDocumentChunk } from '../source-chunk.js';
import { nodeResponseOf, sseResponse, type SseWriter } from '../sse.js';

const TURN_STREAM_EXAMPLE = [
  'data: {"type":"start","messageId":"<assistant id>"}',
  'data: {"type":"data-turn","data":{"userMessage":{…},"assistantMessage":{…}}}',
  'data: {"type":"text-start","id":"<assistant id>"}',
  'data: {"type":"text-delta","id":"<assistant id>","delta":"The pool was "}',
  'data: {"type":"text-delta","id":"<assistant id>","delta":"exhausted because… [1]"}',
  'data: {"type":"source-document","sourceId":"<assistant id>:1","mediaType":"text/markdown","title":"Connection pool incident › Root cause","providerMetadata":{"reportChat":{"n":1,"start":161,"end":230,"quote":"Transactions held their connection while calling the payment provider"}}}',
  'data: {"type":"text-end","id":"<assistant id>"}',
  'data: {"type":"data-saved","data":{"saved":true,"message":{…}}}',
  'data: {"type":"finish"}',
  'data: [DONE]',
  '',
].join('\n\n');

const TURN_STREAM_DESCRIPTION = `The answer as it is generated, in the [AI SDK UI message stream protocol](https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol), version 1. Each event is one \`data: <json>\` line and a blank line, in this order:

- \`start\` with \`messageId\`, the answer's id;
- \`data-turn\` with \`data.userMessage\` and \`data.assistantMessage\` (a Message each, the answer \`queued\` or further);
- \`text-start\`, then any number of \`text-delta\` (\`delta\` is the next piece of text), then \`text-end\`;
- among them, before \`text-end\`, one \`source-document\` per source the answer cites, after the delta that holds its \`[n]\` marker: \`sourceId\` (\`<answer id>:<n>\`), \`mediaType\` \`text/markdown\`, \`title\` (the heading path) and \`providerMetadata.reportChat\` \`{n, start, end, quote}\`, the same as the message's \`sources\` (an AI SDK client shows them as \`source-document\` parts);
- \`error\` with \`errorText\`, only when the model failed;
- \`data-saved\` with \`data.saved\` and \`data.message\`, the final answer (status \`complete\`, \`failed\`, \`stopped\` or \`interrupted\`);
- \`finish\`, then \`data: [DONE]\`.

The joined deltas always equal the saved \`message.content\`, and the \`source-document\` chunks its \`sources\`. \`saved: false\` means the final answer could not be committed after retries: tell the person, and keep the text on screen.`;

function routesOf<K extends 'reportId' | 'conversationId'>(scope: Scope<K>) {
  const sendRoute = createRoute({
    method: 'post',
    path: `${scope.path}/messages`,
    operationId: scope.operationId('sendMessage'),
    tags: [scope.tag],
    summary: 'Send a message and get the answer',
    description: `Appends a user message and its answer. Owner and editors.

  - The user message and the answer's placeholder are committed in one transaction **before** the model is called; if that fails, the answer is 503 and nothing was stored.
  - Answers in one conversation are produced in \`seq\` order; the model sees every earlier completed message (within the context budget).
  - A client that disconnects does not stop the answer: it is generated and stored, and other tabs see it.
  - **Replay**: the same \`id\` with the same content never creates a second turn. It answers with the stored turn (following the live answer if it is still being generated), with \`Idempotent-Replayed: true\`. The same \`id\` with different content is 422. Replays are not rate limited and ignore \`If-Match\`.
  - Without an \`id\` (body or \`Idempotency-Key\`) the server makes one up, and the request cannot be retried safely: always send one.

  \`Accept: application/json\` waits for the answer: 201 (200 on a replay) with the turn. Otherwise the answer streams (200, \`text/event-stream\`).`,
    security: SECURITY.user,
    middleware: [jsonBody] as const,
    request: {
      params: scope.params,
      headers: z.object({
        'Idempotency-Key': z
          .uuid({ error: 'must be a UUID' })
          .optional()
          .meta({ param: { description: 'The user message id, instead of the body `id`. Both present and different: 400.' } }),
        'If-Match': ifMatchHeader(),
        Accept: z
          .string()
          .optional()
          .meta({
            param: {
              description:
                '`application/json` waits for the answer and returns it as JSON; anything else (or `text/event-stream`) streams it. Listed for readers: OpenAPI tools take content negotiation from the response media types.',
            },
            example: 'application/json',
          }),
      }),
      body: jsonRequest(
        sendMessageBody,
        "`content` of at most `MAX_MESSAGE_CHARS` (default 4000) characters; `id` is the client's UUID for the user message and its idempotency key.",
      ),
    },
    responses: {
      200: {
        description: 'The answer, streamed (a new turn or a replay); or, with `Accept: application/json`, a replayed turn.',
        content: {
          'text/event-stream': { schema: z.string().meta({ description: TURN_STREAM_DESCRIPTION }), example: TURN_STREAM_EXAMPLE },
          ...json(turnSchema),
        },
        headers: {
          'x-vercel-ai-ui-message-stream': { description: 'The AI SDK UI message stream protocol version.', schema: { type: 'string', enum: ['v1'] } },
          'Idempotent-Replayed': {
            description: '`true` when the answer is the stored turn of an earlier request with the same id.',
            schema: { type: 'string', enum: ['true'] },
          },
          ...RATE_LIMIT_HEADERS,
        },
      },
      201: {
        description: 'With `Accept: application/json`: the new turn once its answer ended. `saved` tells whether the final answer was committed.',
        content: json(turnSchema),
        headers: RATE_LIMIT_HEADERS,
      },
      ...errors(
        ['invalid_request', 'A malformed body; `Idempotency-Key` not a UUID or different from `id`; a malformed `If-Match`.'],
        ['payload_too_large', '`content` over `MAX_MESSAGE_CHARS`, or a body over 64 KiB.'],
        'unsupported_media_type',
        'unauthorized',
        ['forbidden', 'You are a viewer.'],
        'csrf',
        ['not_found', scope.notFound],
        'report_not_ready',
        'conversation_full',
        ['precondition_failed', 'The conversation changed since the version in `If-Match`.'],
        'idempotency_conflict',
        ['rate_limited', 'Over `RATE_LIMIT_PER_HOUR` or `RATE_LIMIT_PER_DAY` new turns.'],
        'internal',
        ['unavailable', 'The turn could not be stored: nothing was stored and no model was called.'],
      ),
    },
  });
  return { sendRoute };
}

export function sendMessageRoutes<K extends 'reportId' | 'conversationId'>(ctx: ChatContext, scope: Scope<K>) {
  const app = routesApp();
  const { sendRoute } = routesOf(scope);
  app.openapi(sendRoute, async (c) => {
    const where = scope.where(c.req.valid('param'));
    const body = c.req.valid('json');
    const { 'Idempotency-Key': headerKey, 'If-Match': ifMatch, Accept: accept } = c.req.valid('header');
    if (headerKey && body.id && headerKey.toLowerCase() !== body.id.toLowerCase()) {
      throw new AppError('invalid_request', 'The Idempotency-Key header and the body "id" differ.');
    }
    const messageId = (body.id ?? headerKey ?? randomUUID()).toLowerCase();
    const turn = await sendMessage(ctx, c.get('caller'), { where, messageId, content: body.content, ifMatch });
    const headers: Record<string, string> = turn.replayed ? { 'Idempotent-Replayed': 'true' } : rateLimitHeaders(turn.limits);
    return wantsJson(accept) ? jsonTurn(c, turn, headers) : sseTurn(ctx, turn, headers, nodeResponseOf(c));
  });
  return app;
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
 * API.md's UI message stream, framed from the turn's events (src/chat/turn-stream.ts): start, data-turn, text-start,
 * deltas and source-document chunks, text-end, [error], data-saved, finish, [DONE].
 */
function sseTurn(ctx: ChatContext, turn: SentTurn, headers: Record<string, string>, socket: ServerResponse | undefined): Response {
  const id = turn.assistantMessage.id;
  return sseResponse(
    { 'x-vercel-ai-ui-message-stream': 'v1', ...headers },
    async (w) => {
      const events = streamTurn(turn);
      w.onClose(() => events.close());
      // The answer's hottest write: its text-delta events' head is framed once, not stringified with every delta.
      const deltaHead = `data: {"type":"text-delta","id":${JSON.stringify(id)},"delta":`;
      // Each event is written as it is pushed, in the answer's own turn: no await per delta.
      await events.deliver((event) => writeTurnEvent(w, turn, event, deltaHead));
    },
    (err) => ctx.log.error({ err, messageId: id }, 'turn stream failed'),
    socket,
  );
}

/** `deltaHead`: a text-delta event up to its delta's JSON string, the same bytes as `w.data` would write. */
function writeTurnEvent(w: SseWriter, turn: SentTurn, event: TurnStreamEvent, deltaHead: string): void {
  const id = turn.assistantMessage.id;
  switch (event.type) {
    case 'start':
      w.data({ type: 'start', messageId: id });
      w.data({
        type: 'data-turn',
        data: {
          userMessage: toApiMessage(event.userMessage, turn.reportId),
          assistantMessage: toApiMessage(event.assistantMessage, turn.reportId),
        },
      });
      w.data({ type: 'text-start', id });
      break;
    case 'delta':
      w.write(`${deltaHead}${JSON.stringify(event.text)}}\n\n`);
      break;
    case 'source':
      w.data(sourceDocumentChunk(id, event.source));
      break;
    case 'end':
      w.data({ type: 'text-end', id });
      if (event.error !== undefined) w.data({ type: 'error', errorText: event.error });
      w.data({ type: 'data-saved', data: { saved: event.saved, message: toApiMessage(event.message, turn.reportId) } });
      w.data({ type: 'finish' });
      w.write('data: [DONE]\n\n');
      break;
  }
}
