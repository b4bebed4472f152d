/**
 * The pause before a retry, in whatever unit `base` and `max` are given: `base * 2^attempt` (attempt 0 is the
 * first retry), at most `max`, then jittered so that clients that failed together do not all come back together.
 * `half` waits between half and all of it (a floor keeps a flapping peer from being hammered); `full` waits anywhere
 * from nothing to all of it (the retries of one operation spread the most).
 * Pure and free of imports: the server, the store and the browser use this one formula.
 */
export interface Backoff {
  base: number;
  max?: number;
  jitter: 'none' | 'half' | 'full';
}

export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  // 2 ** 1024 is Infinity, and 0 * Infinity is NaN: clamp the exponent, the cap bounds the rest.
  const cap = Math.min(backoff.max ?? Infinity, backoff.base * 2 ** Math.min(Math.max(attempt, 0), 1000));
  if (backoff.jitter === 'full') return random() * cap;
  if (backoff.jitter === 'half') return cap / 2 + (random() * cap) / 2;
  return cap;
}
