import type { Config } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import type { WindowCount, WindowLimit } from '../store/rate-limits.js';

const HOUR = 3_600;
const DAY = 86_400;

/** New turns per user per hour and per day; a limit of 0 is off. */
export function turnLimits(config: Config, userId: string): WindowLimit[] {
  const limits: WindowLimit[] = [];
  if (config.rateLimitPerHour > 0) limits.push({ key: `turns:hour:${userId}`, windowSeconds: HOUR, limit: config.rateLimitPerHour });
  if (config.rateLimitPerDay > 0) limits.push({ key: `turns:day:${userId}`, windowSeconds: DAY, limit: config.rateLimitPerDay });
  return limits;
}

const suffix = (l: WindowCount) => (l.windowSeconds === HOUR ? 'Hour' : l.windowSeconds === DAY ? 'Day' : `${l.windowSeconds}s`);

/** `X-RateLimit-Limit-Hour`, `-Remaining-Hour`, `-Reset-Hour` (epoch seconds), and the same for Day. */
export function rateLimitHeaders(counts: readonly WindowCount[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const l of counts) {
    headers[`X-RateLimit-Limit-${suffix(l)}`] = String(l.limit);
    headers[`X-RateLimit-Remaining-${suffix(l)}`] = String(Math.max(0, l.limit - l.count));
    headers[`X-RateLimit-Reset-${suffix(l)}`] = String(Math.ceil(l.resetAt.getTime() / 1000));
  }
  return headers;
}

export function rateLimitedError(counts: readonly WindowCount[]): AppError {
  const exceeded = counts.filter((l) => l.count > l.limit);
  const waitSeconds = Math.max(1, ...exceeded.map((l) => Math.ceil((l.resetAt.getTime() - Date.now()) / 1000)));
  const which = exceeded.map((l) => `${l.limit} per ${suffix(l).toLowerCase()}`).join(' and ');
  return new AppError('rate_limited', `You have reached the limit of ${which} new messages. Try again later.`, {
    headers: { 'Retry-After': String(waitSeconds), ...rateLimitHeaders(counts) },
  });
}
