import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../errors/app-error.js';

/**
 * Refuses a request body larger than `maxSize` bytes with 413 payload_too_large, while it is read, not after: a huge
 * body is refused without being buffered.
 *
 * A body of declared length (Content-Length, no Transfer-Encoding: what Node's parser then holds the body to) is
 * judged by its header alone. A chunked body is counted as it is read (hono/body-limit), and so is any other but a
 * GET's or a HEAD's (a Request built in the process, app.request(), has neither header). Judging by the header
 * matters beyond the read it saves: looking at `c.req.raw.body`, as hono/body-limit does first, makes
 * @hono/node-server build a web `Request` and a body stream for every request, GETs included, kept for the
 * request's life (kilobytes per open event stream or streaming answer: BENCHMARKS.md), and read the JSON through
 * that stream instead of straight from the socket.
 */
export function limitBody(maxSize: number): MiddlewareHandler {
  const tooLarge = () => {
    throw new AppError('payload_too_large', `The request body is larger than ${Math.round(maxSize / 1024)} KiB.`);
  };
  const counting = bodyLimit({ maxSize, onError: tooLarge });
  return async function limitBodyMiddleware(c, next) {
    if (c.req.header('transfer-encoding') !== undefined) return counting(c, next);
    const length = c.req.header('content-length');
    if (length !== undefined) {
      if (Number.parseInt(length, 10) > maxSize) tooLarge();
      return next();
    }
    // Neither header: on the wire, no body; a Request built in the process (app.request) may still carry one.
    return c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : counting(c, next);
  };
}
