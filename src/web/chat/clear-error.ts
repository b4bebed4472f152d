import { ApiError, describeError } from '../api/errors.js';

/** Why a clear did not happen, in words (API.md: 412 when stale, 409 while an answer is generated). */
export function explainClearError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 412) {
      return 'Nothing was cleared: the conversation changed in another tab or window after this page showed it. The newest messages are shown now; clear again if you still want to.';
    }
    if (err.status === 409) {
      return 'Nothing was cleared: an answer is still being written. Wait for it to finish, or stop it, then clear.';
    }
    if (err.status === 403) return 'Only the owner of this report can clear its conversation.';
  }
  return `Nothing was cleared: ${describeError(err)}`;
}
