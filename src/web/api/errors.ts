import { ReportChatError } from '../../client/index.js';

/**
 * An error answer of the API (API.md "Errors"): its status, code and the message written for a person. The shared
 * client's error, with what the web UI reads from it.
 */
export class ApiError extends ReportChatError {
  /** From `Retry-After`, for 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, message: string, headers: Headers = new Headers()) {
    super(status, code, message, headers);
    this.name = 'ApiError';
    const retryAfter = Number(headers.get('Retry-After'));
    this.retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  }

  static from(err: ReportChatError): ApiError {
    // The shared client says `HTTP <status>` when the answer was not the API's error format (a proxy's page).
    const message = err.code === 'unknown' && /^HTTP \d+$/.test(err.message) ? `The server answered ${err.status}.` : err.message;
    return new ApiError(err.status, err.code, message, err.headers);
  }
}

/** The request never got an answer (offline, connection refused or reset): the server's state is unknown. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('The server could not be reached. Check the connection.', { cause });
    this.name = 'NetworkError';
  }
}

/**
 * Nothing was stored (503), or nothing is known (no answer; a 500, which the server also sends when it could not
 * confirm a commit): a request with an idempotency key may be sent again with the same key.
 */
export const isRetryable = (err: unknown): err is ApiError | NetworkError =>
  err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);

export const isAbort = (err: unknown): boolean => err instanceof DOMException && err.name === 'AbortError';

export const abortError = (): DOMException => new DOMException('The request was aborted.', 'AbortError');

/** Words for a person, whatever the error was. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof NetworkError) return err.message;
  return 'Something went wrong. Try again.';
}
