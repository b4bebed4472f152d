import type { Report } from '../api/types.js';
import { TimeAgo } from '../ui/TimeAgo.js';

const STATUS: Record<Report['status'], string> = { complete: 'Ready', generating: 'Being written', failed: 'Failed' };
const ROLE: Record<Report['role'], string> = {
  owner: 'You own this report',
  editor: 'You can chat about this report',
  viewer: 'You can read this report and its conversation',
};

export function ReportMeta({ report }: { report: Report }) {
  return (
    <p className="report-meta">
      <span className={`pill pill-${report.status}`}>{STATUS[report.status]}</span>
      <span>{ROLE[report.role]}</span>
      <span>
        Updated <TimeAgo iso={report.updatedAt} />
      </span>
    </p>
  );
}
