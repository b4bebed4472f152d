import type { Sql } from './db.js';

/** Replaces a user's password hash only while it is still `expected`: of two processes changing it at once, one wins. */
export async function replacePasswordHash(sql: Sql, userId: string, expected: string, next: string): Promise<boolean> {
  const rows = await sql`UPDATE users SET password_hash = ${next} WHERE id = ${userId} AND password_hash = ${expected} RETURNING id`;
  return rows.length === 1;
}
