import { AppError, notFound } from '../errors/app-error.js';
import { conversationIdsOfReport } from '../store/conversations.js';
import { removeMember as deleteMember, upsertMember, type MemberRole } from '../store/members.js';
import { requireRole, visibleReport } from './access.js';
import type { Caller, ChatContext } from './context.js';

export async function setMember(ctx: ChatContext, caller: Caller, input: { reportId: string; userId: string; role: MemberRole }) {
  const report = await visibleReport(ctx, caller, input.reportId);
  requireRole(report, ['owner'], 'manage members');
  if (input.userId === report.ownerId) throw new AppError('invalid_request', 'The owner of a report cannot also be a member of it.');
  const member = await upsertMember(ctx.sql, report.id, input.userId, input.role);
  if (!member) throw notFound('user');
  // A demotion from editor to viewer takes effect on the next request; open streams stay (viewers may read).
  return member;
}

export async function removeMember(ctx: ChatContext, caller: Caller, input: { reportId: string; userId: string }): Promise<void> {
  const report = await visibleReport(ctx, caller, input.reportId);
  requireRole(report, ['owner'], 'manage members');
  await deleteMember(ctx.sql, report.id, input.userId);
  // Their open events streams, on every conversation of the report, close now, not at their next access check.
  for (const conversationId of await conversationIdsOfReport(ctx.sql, report.id)) {
    ctx.bus.publish({ type: 'revoked', conversationId, userId: input.userId });
  }
}
