import type { Sql } from './db.js';

export type MemberRole = 'viewer' | 'editor';

/** Gives `userId` a role on the report (or changes it). Undefined when no such user exists. */
export async function upsertMember(sql: Sql, reportId: string, userId: string, role: MemberRole): Promise<{ userId: string; role: MemberRole } | undefined> {
  const [row] = await sql<{ userId: string; role: MemberRole }[]>`
    INSERT INTO report_members (report_id, user_id, role)
    SELECT ${reportId}, u.id, ${role} FROM users u WHERE u.id = ${userId}
    ON CONFLICT (report_id, user_id) DO UPDATE SET role = excluded.role
    RETURNING user_id, role`;
  return row;
}

export async function removeMember(sql: Sql, reportId: string, userId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM report_members WHERE report_id = ${reportId} AND user_id = ${userId} RETURNING user_id`;
  return rows.length === 1;
}

/** Adds a member who is not one yet; undefined when they already are (the role is left as it is). */
export async function insertMember(sql: Sql, reportId: string, userId: string, role: MemberRole): Promise<{ userId: string; role: MemberRole } | undefined> {
  const [row] = await sql<{ userId: string; role: MemberRole }[]>`
    INSERT INTO report_members (report_id, user_id, role) VALUES (${reportId}, ${userId}, ${role})
    ON CONFLICT (report_id, user_id) DO NOTHING
    RETURNING user_id, role`;
  return row;
}

export interface MemberDetail {
  userId: string;
  email: string | null;
  name: string | null;
  role: MemberRole;
}

/** The report's members with their names and emails, by name. */
export async function listMembers(sql: Sql, reportId: string): Promise<MemberDetail[]> {
  return sql<MemberDetail[]>`
    SELECT m.user_id, u.email, u.name, m.role
    FROM report_members m JOIN users u ON u.id = m.user_id
    WHERE m.report_id = ${reportId}
    ORDER BY lower(coalesce(u.name, u.email, '')), m.user_id`;
}
