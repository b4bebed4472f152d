import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { APICallError } from '@ai-sdk/provider';

/** Enough of an error body for the log; a provider's error JSON is far shorter. */
const ERROR_BODY_LIMIT = 16 * 1024;

/**
 * Connections to the provider are kept alive between answers, one pool per model client. An idle connection is
 * closed after 4 s (as undici does when the server gives no `Keep-Alive: timeout` hint; Node honours a shorter
 * hint), so that a request is not sent on a socket the server already closed; the timeout only emits an event on
 * a connection in use, it never cuts an answer that streams slowly.
 */
const IDLE_SOCKET_MS = 4_000;

export function keepAliveAgent(url: URL): HttpAgent {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
  return url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
}

/**
 * POSTs a JSON body and resolves with the response once a 2xx status has arrived, its body not yet read (a stream).
 * Any other status rejects with an APICallError that carries it (its body for the log, never the request: that holds
 * the whole report); a failure to connect or send rejects with the socket's own error (ECONNREFUSED, …). Aborting
 * the signal destroys the request and its response, so nothing keeps the connection once the answer is abandoned.
 */
export function postForStream(url: URL, headers: Record<string, string>, body: string, agent: HttpAgent, signal?: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: 'POST',
    agent,
    signal,
    headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = responseOf(request, url);
  // `body` is used here only, never inside a closure: a closure over it would keep the whole prompt (the report
  // with it) alive for as long as the answer streams.
  request.end(body);
  return response;
}

/** The request's response once a 2xx status has arrived; any other status, or the request's error, rejects. */
function responseOf(request: ClientRequest, url: URL): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        response.setEncoding('utf8');
        resolve(response);
        return;
      }
      void readSome(response).then((responseBody) =>
        reject(
          new APICallError({
            message: `the provider answered HTTP ${status}`,
            url: url.href,
            requestBodyValues: undefined,
            statusCode: status,
            responseHeaders: flatHeaders(response),
            responseBody,
            isRetryable: status === 408 || status === 409 || status === 429 || status >= 500,
          }),
        ),
      );
    });
  });
}

function readSome(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (piece: string) => {
      if (text.length < ERROR_BODY_LIMIT) text += piece;
    });
    response.on('end', () => resolve(text.slice(0, ERROR_BODY_LIMIT)));
    response.on('error', () => resolve(text.slice(0, ERROR_BODY_LIMIT)));
  });
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}
