import type { Sql } from './db.js';
import type { UserRow } from './types.js';

/**
 * A new session for the user. Signing in rotates: the session the browser held before (if any) is deleted in the
 * same transaction, so a fixated or stolen pre-login cookie is worth nothing; its id is returned (replacedId).
 */
export async function createSession(
  sql: Sql,
  input: { userId: string; tokenHash: Buffer; ttlMs: number; replacingHash?: Buffer },
): Promise<{ id: string; expiresAt: Date; replacedId: string | undefined }> {
  return sql.begin(async (tx) => {
    const [replaced] = input.replacingHash
      ? await tx<{ id: string }[]>`DELETE FROM sessions WHERE token_hash = ${input.replacingHash} RETURNING id`
      : [];
    // Expired sessions of this user go too: the table does not grow with every sign-in.
    await tx`DELETE FROM sessions WHERE user_id = ${input.userId} AND expires_at < now()`;
    const [row] = await tx<{ id: string; expiresAt: Date }[]>`
      INSERT INTO sessions (user_id, token_hash, expires_at)
      VALUES (${input.userId}, ${input.tokenHash}, now() + ${input.ttlMs} * interval '1 millisecond')
      RETURNING id, expires_at`;
    if (!row) throw new Error('insert returned no session');
    return { ...row, replacedId: replaced?.id };
  });
}

export type SessionUser = UserRow & { sessionId: string; expiresAt: Date };

/** The session's user, and the session's id and end (open streams end with the session). */
export async function findSessionUser(sql: Sql, tokenHash: Buffer): Promise<SessionUser | undefined> {
  const [row] = await sql<SessionUser[]>`
    SELECT u.id, u.email, u.name, u.created_at, s.id AS session_id, s.expires_at
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.token_hash = ${tokenHash} AND s.expires_at > now() AND u.disabled_at IS NULL`;
  return row;
}

/** Deletes the session; its id, or undefined when there was none. */
export async function deleteSession(sql: Sql, tokenHash: Buffer): Promise<string | undefined> {
  const [row] = await sql<{ id: string }[]>`DELETE FROM sessions WHERE token_hash = ${tokenHash} RETURNING id`;
  return row?.id;
}
