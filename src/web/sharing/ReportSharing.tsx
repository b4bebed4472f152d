import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { Report } from '../api/types.js';
import { personName } from '../ui/person-name.js';
import { ShareDialog } from './ShareDialog.js';

/** Under the report's title: the owner's Share button, or, for a member, whose report it is. */
export function ReportSharing({ report }: { report: Report }) {
  return report.role === 'owner' ? <ShareButton report={report} /> : <SharedBy reportId={report.id} />;
}

function ShareButton({ report }: { report: Report }) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  return (
    <div className="report-sharing">
      <button ref={button} type="button" className="button button-small" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        Share
      </button>
      {open && <ShareDialog report={report} onClose={() => setOpen(false)} />}
    </div>
  );
}

function SharedBy({ reportId }: { reportId: string }) {
  const [owner, setOwner] = useState<string>();
  useEffect(() => {
    const controller = new AbortController();
    api
      .listMembers(reportId, controller.signal)
      .then((list) => setOwner(personName(list.owner)))
      .catch(() => {
        // A courtesy line only: the page states the role already, and a refusal reaches it through its other calls.
      });
    return () => controller.abort();
  }, [reportId]);
  if (!owner) return null;
  return (
    <p className="report-sharing">
      Shared with you by <strong>{owner}</strong>
    </p>
  );
}
