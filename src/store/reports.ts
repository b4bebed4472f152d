import type { Sql } from './db.js';
import type { ConversationRow, ReportRow, ReportStatus } from './types.js';

export interface NewReport {
  ownerId: string;
  title: string;
  content: string;
  status: ReportStatus;
}

/** A report and its (empty) main conversation, in one transaction: a report never exists without it. */
export async function createReport(sql: Sql, input: NewReport): Promise<ReportRow> {
  return sql.begin(async (tx) => {
    const [report] = await tx<ReportRow[]>`
      INSERT INTO reports (owner_id, title, content, status)
      VALUES (${input.ownerId}, ${input.title}, ${input.content}, ${input.status})
      RETURNING *`;
    if (!report) throw new Error('insert returned no report');
    await tx`INSERT INTO conversations (report_id, created_by) VALUES (${report.id}, ${input.ownerId})`;
    return report;
  });
}

export interface VisibleReport extends ReportRow {
  role: 'owner' | 'editor' | 'viewer';
  conversationId: string;
  version: number;
  messageCount: number;
}

/**
 * The report if `userId` may see it (the view report_access states who may), with the caller's role and the
 * conversation's id, in the one query that both checks access and reads the data. Not visible and not existing are the same answer: undefined.
 */
export async function findVisibleReport(sql: Sql, reportId: string, userId: string): Promise<VisibleReport | undefined> {
  const [row] = await sql<VisibleReport[]>`
    SELECT r.*, a.role, c.id AS conversation_id, c.version, c.message_count
    FROM report_access a
    JOIN reports r ON r.id = a.report_id
    JOIN conversations c ON c.report_id = r.id AND c.is_main
    WHERE a.report_id = ${reportId} AND a.user_id = ${userId}`;
  return row;
}

export interface ReportSummary {
  id: string;
  title: string;
  status: ReportStatus;
  role: 'owner' | 'editor' | 'viewer';
  messageCount: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Reports visible to the user, newest first. updatedAt counts conversation activity too. */
export async function listVisibleReports(sql: Sql, userId: string, limit = 500): Promise<ReportSummary[]> {
  return sql<ReportSummary[]>`
    SELECT r.id, r.title, r.status, a.role, c.message_count, r.created_at, greatest(r.updated_at, c.updated_at) AS updated_at
    FROM report_access a
    JOIN reports r ON r.id = a.report_id
    JOIN conversations c ON c.report_id = r.id AND c.is_main
    WHERE a.user_id = ${userId}
    ORDER BY r.created_at DESC, r.id
    LIMIT ${limit}`;
}

export interface ReportPatch {
  title?: string;
  content?: string;
  status?: ReportStatus;
}

/** A change of content bumps `revision` and keeps the new content as that revision, in this statement (migration 0005). */
export async function updateReport(sql: Sql, reportId: string, patch: ReportPatch): Promise<ReportRow | undefined> {
  const [row] = await sql<ReportRow[]>`
    UPDATE reports SET
      title = coalesce(${patch.title ?? null}, title),
      content = coalesce(${patch.content ?? null}, content),
      status = coalesce(${patch.status ?? null}, status),
      updated_at = now()
    WHERE id = ${reportId}
    RETURNING *`;
  return row;
}

/**
 * The content of one revision of a report (the current one included), or undefined when it has no such revision.
 * The caller checks that the report is visible.
 */
export async function readReportRevision(sql: Sql, reportId: string, revision: number): Promise<string | undefined> {
  const [row] = await sql<{ content: string }[]>`
    SELECT content FROM report_revisions WHERE report_id = ${reportId} AND revision = ${revision}`;
  return row?.content;
}

export async function readConversation(sql: Sql, conversationId: string): Promise<ConversationRow | undefined> {
  const [row] = await sql<ConversationRow[]>`SELECT * FROM conversations WHERE id = ${conversationId}`;
  return row;
}

/** The current version of each of these conversations (those that still exist), in one statement. */
export async function readConversationVersions(sql: Sql, conversationIds: readonly string[]): Promise<{ id: string; version: number }[]> {
  return sql<{ id: string; version: number }[]>`
    SELECT id, version FROM conversations
    WHERE id IN (SELECT value::uuid FROM json_array_elements_text(${JSON.stringify(conversationIds)}::text::json))`;
}

/** The first report (by creation, then title) owned by the user with this email: the one the welcome line links to. */
export async function findFirstReportOwnedBy(sql: Sql, email: string): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`
    SELECT r.id FROM reports r JOIN users u ON u.id = r.owner_id WHERE u.email = ${email} ORDER BY r.created_at, r.title LIMIT 1`;
  return row?.id;
}

/** A report's title and its conversation's id, with no access check: for the command line, which runs as the operator. */
export async function findReportConversation(sql: Sql, reportId: string): Promise<{ title: string; conversationId: string } | undefined> {
  const [row] = await sql<{ title: string; conversationId: string }[]>`
    SELECT r.title, c.id AS conversation_id FROM reports r JOIN conversations c ON c.report_id = r.id AND c.is_main WHERE r.id = ${reportId}`;
  return row;
}
