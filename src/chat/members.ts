import { AppError, notFound } from '../errors/app-error.js';
import { conversationIdsOfReport } from '../store/conversations.js';
import { insertMember, listMembers as readMembers, removeMember as deleteMember, upsertMember, type MemberRole } from '../store/members.js';
import { findAccountByEmail, findUserById } from '../store/users.js';
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

/**
 * Who has access to a report. The owner sees every member; anyone else sees the owner and their own role only (a
 * member list is the owner's to share).
 */
export async function listMembers(ctx: ChatContext, caller: Caller, reportId: string) {
  const report = await visibleReport(ctx, caller, reportId);
  const owner = await findUserById(ctx.sql, report.ownerId);
  const all = await readMembers(ctx.sql, report.id);
  return {
    owner: { id: report.ownerId, email: owner?.email ?? null, name: owner?.name ?? null },
    role: report.role,
    members: report.role === 'owner' ? all : all.filter((m) => m.userId === caller.id),
  };
}

/** Shares a report with the user who has this email. Errors say which: no such user, already a member, the owner. */
export async function addMemberByEmail(ctx: ChatContext, caller: Caller, input: { reportId: string; email: string; role: MemberRole }) {
  const report = await visibleReport(ctx, caller, input.reportId);
  requireRole(report, ['owner'], 'manage members');
  const user = await findAccountByEmail(ctx.sql, input.email);
  if (!user) throw new AppError('not_found', `No user has the email ${input.email}. Ask your administrator to create one.`);
  if (user.id === report.ownerId) throw new AppError('invalid_request', 'You own this report: you have every right on it already.');
  if (user.disabled) throw new AppError('invalid_request', 'This account is disabled.');
  const member = await insertMember(ctx.sql, report.id, user.id, input.role);
  if (!member) throw new AppError('already_member', `${input.email} is already a member; change their role instead.`);
  return { userId: user.id, email: user.email, name: user.name, role: member.role };
}
