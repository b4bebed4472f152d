/**
 * The closed set of error codes a client can see (API.md "Errors"), and their HTTP statuses. Every layer may
 * throw an AppError; only src/http turns one into a response. Anything else that reaches the HTTP layer is a
 * server fault: logged in full, answered with a generic message.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  csrf: 403,
  not_found: 404,
  report_not_ready: 409,
  conversation_full: 409,
  conversation_busy: 409,
  token_limit: 409,
  conversation_limit: 409,
  already_member: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_conflict: 422,
  precondition_required: 428,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
    this.headers = options?.headers;
  }
  readonly headers: Record<string, string> | undefined;
}

export const notFound = (what = 'report') => new AppError('not_found', `No such ${what}.`);
