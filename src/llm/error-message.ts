import { APICallError } from '@ai-sdk/provider';

export const MODEL_STOPPED_RESPONDING = 'The model stopped responding.';

/**
 * What a person may read about a failed model call. Raw provider errors can carry the request URL, headers or
 * even the key, so only a status code or a provider's error type (a fixed identifier) ever gets through.
 */
export function describeModelError(error: unknown): string {
  const status = APICallError.isInstance(error) ? error.statusCode : undefined;
  if (status !== undefined && status >= 400) {
    if (status === 401 || status === 403) return `The model provider rejected the credentials (HTTP ${status}).`;
    if (status === 429) return 'The model provider is rate-limiting requests (HTTP 429); try again shortly.';
    return `The model provider returned an error (HTTP ${status}).`;
  }
  const code = socketErrorCode(error);
  if (code !== undefined && CONNECT_FAILURES.has(code)) return 'Could not reach the model provider.';
  if (code !== undefined) return 'The connection to the model provider was lost.';
  // The SDK wraps a failure to even send the request as an APICallError without a status.
  if (APICallError.isInstance(error)) {
    return status === undefined ? 'Could not reach the model provider.' : 'The model provider sent a response that could not be read.';
  }
  const type = providerErrorType(error);
  if (type !== undefined) return `The model provider reported an error while answering (${type}).`;
  return 'The model failed to answer.';
}

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Mid-stream error events arrive as plain objects: Anthropic `{type, message}`, OpenAI `{message, type, code}`. */
function providerErrorType(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || error instanceof Error) return undefined;
  const type = (error as { type?: unknown }).type;
  return typeof type === 'string' && /^[a-z][a-z0-9_]{0,40}$/.test(type) ? type : undefined;
}

/**
 * The network error code somewhere in the cause chain. undici reports a dropped response body as
 * `TypeError: terminated` caused by `SocketError` (UND_ERR_SOCKET), and the SDK wraps that again.
 */
function socketErrorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    if (e.message === 'terminated') return 'UND_ERR_SOCKET';
  }
  return undefined;
}
