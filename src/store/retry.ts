import { setTimeout as sleep } from 'node:timers/promises';
import { isTransientDbError } from './pg-errors.js';
import { backoffDelay } from '../backoff.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First pause; doubles each time, with full jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

export const QUICK_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 };
// A final commit matters more than latency: keep trying through a short database restart.
export const PATIENT_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 };

/**
 * Runs `op` again after a transient database error. Only for operations that are safe to repeat: every caller's
 * transaction is conditional (it re-checks the row's state) or idempotent by key, so a commit whose
 * acknowledgement was lost is detected, not applied twice.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !isTransientDbError(err)) throw err;
      options.onRetry?.(err, attempt);
      await sleep(backoffDelay(attempt - 1, { base: options.baseDelayMs, max: options.maxDelayMs, jitter: 'full' }));
    }
  }
}
