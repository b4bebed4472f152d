import { notFound } from '../errors/app-error.js';
import { createReport as insertReport, listVisibleReports, readReportRevision, updateReport, type ReportPatch } from '../store/reports.js';
import type { ReportRow, ReportStatus } from '../store/types.js';
import { requireRole, visibleReport, type Role } from './access.js';
import type { Caller, ChatContext } from './context.js';

export interface ApiReport {
  id: string;
  title: string;
  status: ReportStatus;
  content: string;
  /** Grows with each change of content; answers name the revision they were given (`reportRevision`). */
  revision: number;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

const view = (r: ReportRow, role: Role): ApiReport => ({
  id: r.id,
  title: r.title,
  status: r.status,
  content: r.content,
  revision: r.revision,
  role,
  createdAt: new Date(r.createdAt).toISOString(),
  updatedAt: new Date(r.updatedAt).toISOString(),
});

export async function createReport(
  ctx: ChatContext,
  caller: Caller,
  input: { title: string; content: string; status?: ReportStatus },
): Promise<ApiReport> {
  const row = await insertReport(ctx.sql, { ownerId: caller.id, title: input.title, content: input.content, status: input.status ?? 'complete' });
  return view(row, 'owner');
}

/**
 * The report as it is now or, with `revision`, with the content of that revision (title and status are always the
 * current ones): the text an earlier answer's sources point into. A revision it never had is 404.
 */
export async function getReport(ctx: ChatContext, caller: Caller, reportId: string, revision?: number): Promise<ApiReport> {
  const r = await visibleReport(ctx, caller, reportId);
  if (revision === undefined || revision === r.revision) return view(r, r.role);
  const content = await readReportRevision(ctx.sql, r.id, revision);
  if (content === undefined) throw notFound('revision of this report');
  return { ...view(r, r.role), content, revision };
}

export async function patchReport(ctx: ChatContext, caller: Caller, reportId: string, patch: ReportPatch): Promise<ApiReport> {
  const r = await visibleReport(ctx, caller, reportId);
  requireRole(r, ['owner'], 'change this report');
  const row = await updateReport(ctx.sql, r.id, patch);
  return view(row ?? r, r.role);
}

export async function listReports(ctx: ChatContext, caller: Caller) {
  const rows = await listVisibleReports(ctx.sql, caller.id);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    status: r.status,
    role: r.role,
    messageCount: r.messageCount,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
  }));
}
