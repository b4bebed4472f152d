import { useEffect } from 'react';
import { api } from '../api/client.js';
import { onAccessRefused } from '../api/access-refused.js';
import { ApiError, describeError, isAbort } from '../api/errors.js';
import type { Report } from '../api/types.js';

export const ACCESS_LOST = 'You no longer have access to this report: its owner stopped sharing it with you, or it was deleted.';

/**
 * When a call about this report is refused (access-refused.ts), reads the report again and hands over what it is
 * now: the same report with the role the person now has (a viewer's page loses its composer), or, when it is no
 * longer visible, why.
 */
export function useAccessRefusals(reportId: string, update: (next: { status: 'ready'; report: Report } | { status: 'failed'; message: string }) => void): void {
  useEffect(() => {
    const controller = new AbortController();
    const off = onAccessRefused(reportId, () => {
      api
        .getReport(reportId, controller.signal)
        .then((report) => update({ status: 'ready', report }))
        .catch((err: unknown) => {
          if (isAbort(err)) return;
          update({ status: 'failed', message: err instanceof ApiError && err.status === 404 ? ACCESS_LOST : describeError(err) });
        });
    });
    return () => {
      off();
      controller.abort();
    };
  }, [reportId, update]);
}
