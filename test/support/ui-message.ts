import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import type { TestApp } from './test-app.js';

/**
 * Sends a message the way an unmodified AI SDK client does (DefaultChatTransport, which checks every chunk against
 * the AI SDK's own UI message chunk schema, then readUIMessageStream) and returns the assistant UIMessage it builds.
 * The transport's fetch is the app itself (app.request): no port.
 */
export async function sendThroughAiSdk(
  t: TestApp,
  token: string,
  reportId: string,
  body: { id: string; content: string },
): Promise<{ message: UIMessage; errors: unknown[] }> {
  const transport = new DefaultChatTransport<UIMessage>({
    api: `http://127.0.0.1/api/reports/${reportId}/messages`,
    headers: { authorization: `Bearer ${token}` },
    fetch: (input, init) => Promise.resolve(t.app.request(input instanceof Request ? input : String(input), init)),
    // This API takes one message with its idempotency key, not the whole conversation.
    prepareSendMessagesRequest: () => ({ body }),
  });
  const stream = await transport.sendMessages({
    trigger: 'submit-message',
    chatId: reportId,
    messageId: undefined,
    messages: [],
    abortSignal: undefined,
  });
  const errors: unknown[] = [];
  let message: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream<UIMessage>({ stream, onError: (err) => errors.push(err) })) message = snapshot;
  if (!message) throw new Error('the stream built no message');
  return { message, errors };
}
