import { AppError } from '../errors/app-error.js';
import { PATIENT_RETRY, withRetry } from '../store/retry.js';
import { isCommitUncertain } from '../store/transaction.js';

/**
 * Runs a store call that is idempotent by the client's key (a send, a conversation's creation) with retries that
 * outlast a database restart: a commit whose acknowledgement was lost is found again by the next attempt. When the
 * retries run out after an attempt that may have committed, the client must not be told 503 "nothing was stored";
 * it is told `uncertain` (a 500), which says to send the request again with the same key.
 */
export async function withPatientRetry<T>(op: () => Promise<T>, uncertain: string): Promise<T> {
  let maybeStored = false;
  try {
    return await withRetry(op, { ...PATIENT_RETRY, onRetry: (err) => (maybeStored ||= isCommitUncertain(err)) });
  } catch (err) {
    if (maybeStored || isCommitUncertain(err)) throw new AppError('internal', uncertain, { cause: err });
    throw err;
  }
}
