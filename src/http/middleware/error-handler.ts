import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, ERROR_STATUS, type ErrorCode } from '../../errors/app-error.js';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import { isUnavailableError, sqlState, sqlStateClass } from '../../store/pg-errors.js';

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

export function errorResponse(c: Context, code: ErrorCode, message: string, headers?: Record<string, string>): Response {
  return c.json(errorBody(code, message), ERROR_STATUS[code], headers);
}

/**
 * The one place errors become responses. An AppError says what to tell the client; a database that cannot be
 * reached is 503 `unavailable`; anything else is a fault of ours: logged in full, answered without details.
 */
export function errorHandler(log: Logger, metrics: Metrics) {
  return function handleError(err: Error, c: Context): Response {
    const requestId = c.get('requestId') as string | undefined;
    if (err instanceof AppError) {
      // A fault we could name for the client (e.g. a send whose commit could not be confirmed) is still a fault.
      if (err.status >= 500) log.error({ err, cause: err.cause, requestId, method: c.req.method, path: c.req.path }, err.message);
      return errorResponse(c, err.code, err.message, err.headers);
    }
    // Hono's own refusals (a body validator's media-type gate): the client's fault, in the API's format.
    if (err instanceof HTTPException && err.status === 415) return errorResponse(c, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).');
    if (err instanceof HTTPException && err.status === 400) return errorResponse(c, 'invalid_request', 'The body is not valid JSON.');
    if (sqlState(err) !== undefined) metrics.dbErrors.inc({ class: sqlStateClass(err) });
    if (isUnavailableError(err)) {
      log.warn({ err, requestId }, 'database unavailable');
      return errorResponse(c, 'unavailable', 'The service cannot reach its database right now; nothing was stored. Try again shortly.', { 'Retry-After': '2' });
    }
    log.error({ err, requestId, method: c.req.method, path: c.req.path }, 'unhandled error');
    return errorResponse(c, 'internal', 'Something went wrong on our side. It has been logged.');
  };
}
