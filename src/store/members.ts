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
