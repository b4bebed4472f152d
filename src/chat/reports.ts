import { createReport as insertReport, listVisibleReports, updateReport, type ReportPatch } from '../store/reports.js';
import type { ReportRow, ReportStatus } from '../store/types.js';
import { requireRole, visibleReport, type Role } from './access.js';
import type { Caller, ChatContext } from './context.js';

export interface ApiReport {
  id: string;
  title: string;
  status: ReportStatus;
  content: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

const view = (r: ReportRow, role: Role): ApiReport => ({
  id: r.id,
  title: r.title,
  status: r.status,
  content: r.content,
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

export async function getReport(ctx: ChatContext, caller: Caller, reportId: string): Promise<ApiReport> {
  const r = await visibleReport(ctx, caller, reportId);
  return view(r, r.role);
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
