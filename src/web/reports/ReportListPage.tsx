import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { describeError, isAbort } from '../api/errors.js';
import type { ReportSummary } from '../api/types.js';
import { navigate } from '../app/router.js';
import { AddReportForm } from './AddReportForm.js';
import { ReportRow } from './ReportRow.js';

type ListState = { status: 'loading' } | { status: 'failed'; message: string } | { status: 'ready'; reports: ReportSummary[] };

export function ReportListPage() {
  const [list, setList] = useState<ListState>({ status: 'loading' });
  const [adding, setAdding] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);

  const load = useCallback((signal?: AbortSignal) => {
    api
      .listReports(signal)
      .then(({ reports }) => setList({ status: 'ready', reports }))
      .catch((err: unknown) => {
        if (!isAbort(err)) setList({ status: 'failed', message: describeError(err) });
      });
  }, []);

  useEffect(() => {
    document.title = 'Reports · report-chat';
    const controller = new AbortController();
    load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const closeForm = () => {
    setAdding(false);
    addButton.current?.focus();
  };

  return (
    <main className="page" id="main">
      <div className="page-heading">
        <h1>Reports</h1>
        {!adding && (
          <button ref={addButton} type="button" className="button button-primary" onClick={() => setAdding(true)}>
            Add report
          </button>
        )}
      </div>
      {adding && (
        <AddReportForm
          onCancel={closeForm}
          onCreated={(report) => navigate(`/reports/${report.id}`)}
        />
      )}
      {list.status === 'loading' && <p role="status">Loading reports…</p>}
      {list.status === 'failed' && (
        <div className="callout callout-danger" role="alert">
          <p>The reports could not be loaded: {list.message}</p>
          <button type="button" className="button" onClick={() => load()}>
            Try again
          </button>
        </div>
      )}
      {list.status === 'ready' && list.reports.length === 0 && !adding && (
        <div className="empty-state">
          <p>No reports yet. Add one to start a conversation about it.</p>
        </div>
      )}
      {list.status === 'ready' && list.reports.length > 0 && (
        <ul className="report-list" aria-label="Your reports, newest first">
          {list.reports.map((r) => (
            <ReportRow key={r.id} report={r} />
          ))}
        </ul>
      )}
    </main>
  );
}
