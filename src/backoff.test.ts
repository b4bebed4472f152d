import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from base each attempt and stops at max', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, { base: 25, max: 200, jitter: 'none' }));
    expect(delays).toEqual([25, 50, 100, 200, 200, 200]);
    expect(backoffDelay(5_000, { base: 0.05, max: 1, jitter: 'none' })).toBe(1);
    expect(backoffDelay(5_000, { base: 0, max: 1, jitter: 'none' })).toBe(0);
  });

  it('jitters within [cap/2, cap] for half and [0, cap] for full', () => {
    expect(backoffDelay(2, { base: 10, jitter: 'half' }, () => 0)).toBe(20);
    expect(backoffDelay(2, { base: 10, jitter: 'half' }, () => 1)).toBe(40);
    expect(backoffDelay(2, { base: 10, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelay(2, { base: 10, max: 30, jitter: 'full' }, () => 0.5)).toBe(15);
  });
});
