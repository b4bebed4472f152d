import type { Sql } from './db.js';

/** A new invite for the user (an earlier one of theirs stops working). */
export async function createInvite(sql: Sql, input: { userId: string; codeHash: Buffer; ttlMs: number }): Promise<{ expiresAt: Date }> {
  return sql.begin(async (tx) => {
    await tx`DELETE FROM invites WHERE user_id = ${input.userId} OR expires_at < now()`;
    const [row] = await tx<{ expiresAt: Date }[]>`
      INSERT INTO invites (user_id, code_hash, expires_at)
      VALUES (${input.userId}, ${input.codeHash}, now() + ${input.ttlMs} * interval '1 millisecond')
      RETURNING expires_at`;
    if (!row) throw new Error('insert returned no invite');
    return row;
  });
}

/**
 * Accepts an invite: sets the user's password and uses the invite up, in one transaction. The user's id, or
 * undefined when the code is unknown, used or expired, or the user is disabled.
 */
export async function acceptInvite(sql: Sql, codeHash: Buffer, passwordHash: string): Promise<string | undefined> {
  return sql.begin(async (tx) => {
    const [invite] = await tx<{ userId: string }[]>`
      DELETE FROM invites WHERE code_hash = ${codeHash} AND expires_at > now() RETURNING user_id`;
    if (!invite) return undefined;
    const updated = await tx`
      UPDATE users SET password_hash = ${passwordHash} WHERE id = ${invite.userId} AND disabled_at IS NULL RETURNING id`;
    return updated.length === 1 ? invite.userId : undefined;
  });
}
