import type { ReportSummary } from '../api/types.js';
import { Link } from '../app/router.js';
import { TimeAgo } from '../ui/TimeAgo.js';

const STATUS_LABEL: Record<ReportSummary['status'], string> = {
  complete: 'Ready',
  generating: 'Being written',
  failed: 'Failed',
};

const ROLE_LABEL: Record<ReportSummary['role'], string> = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' };

export function ReportRow({ report }: { report: ReportSummary }) {
  const messages = report.messageCount === 1 ? '1 message' : `${report.messageCount} messages`;
  return (
    <li className="report-row">
      <Link href={`/reports/${report.id}`} className="report-row-title">
        {report.title}
      </Link>
      <div className="report-row-meta">
        <span className={`pill pill-${report.status}`}>{STATUS_LABEL[report.status]}</span>
        <span>{ROLE_LABEL[report.role]}</span>
        <span>{messages}</span>
        <span>
          Last activity <TimeAgo iso={report.updatedAt} />
        </span>
      </div>
    </li>
  );
}
