import type { Sql } from './db.js';
import type { UserRow } from './types.js';

/**
 * A new session for the user. Signing in rotates: the session the browser held before (if any) is deleted in the
 * same transaction, so a fixated or stolen pre-login cookie is worth nothing.
 */
export async function createSession(
  sql: Sql,
  input: { userId: string; tokenHash: Buffer; ttlMs: number; replacingHash?: Buffer },
): Promise<{ id: string; expiresAt: Date }> {
  return sql.begin(async (tx) => {
    if (input.replacingHash) await tx`DELETE FROM sessions WHERE token_hash = ${input.replacingHash}`;
    // Expired sessions of this user go too: the table does not grow with every sign-in.
    await tx`DELETE FROM sessions WHERE user_id = ${input.userId} AND expires_at < now()`;
    const [row] = await tx<{ id: string; expiresAt: Date }[]>`
      INSERT INTO sessions (user_id, token_hash, expires_at)
      VALUES (${input.userId}, ${input.tokenHash}, now() + ${input.ttlMs} * interval '1 millisecond')
      RETURNING id, expires_at`;
    if (!row) throw new Error('insert returned no session');
    return row;
  });
}

export async function findSessionUser(sql: Sql, tokenHash: Buffer): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    SELECT u.id, u.email, u.name, u.created_at
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = ${tokenHash} AND s.expires_at > now()`;
  return row;
}

export async function deleteSession(sql: Sql, tokenHash: Buffer): Promise<void> {
  await sql`DELETE FROM sessions WHERE token_hash = ${tokenHash}`;
}
