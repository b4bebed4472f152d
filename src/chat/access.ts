import { AppError, notFound } from '../errors/app-error.js';
import { findVisibleReport, type VisibleReport } from '../store/reports.js';
import type { Caller, ChatContext } from './context.js';

export type Role = VisibleReport['role'];

/**
 * The report if the caller may see it. A report that exists but is not visible gets the same answer as one that
 * does not exist (404), so probing ids teaches nothing.
 */
export async function visibleReport(ctx: ChatContext, caller: Caller, reportId: string): Promise<VisibleReport> {
  const report = await findVisibleReport(ctx.sql, reportId, caller.id);
  if (!report) throw notFound();
  return report;
}

export function requireRole(report: VisibleReport, allowed: readonly Role[], action: string): void {
  if (!allowed.includes(report.role)) {
    throw new AppError('forbidden', `Your role on this report (${report.role}) does not allow you to ${action}.`);
  }
}

export const CHAT_ROLES: readonly Role[] = ['owner', 'editor'];
