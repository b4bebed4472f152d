import type { Sql } from './db.js';

/** A secret of the admin page: a one-time sign-in link, or the session it was exchanged for. */
export async function createAdminSecret(sql: Sql, input: { kind: 'link' | 'session'; secretHash: Buffer; ttlMs: number }): Promise<{ expiresAt: Date }> {
  // Expired ones go first: the table holds only what can still be used.
  await sql`DELETE FROM admin_sessions WHERE expires_at < now()`;
  const [row] = await sql<{ expiresAt: Date }[]>`
    INSERT INTO admin_sessions (kind, secret_hash, expires_at)
    VALUES (${input.kind}, ${input.secretHash}, now() + ${input.ttlMs} * interval '1 millisecond')
    RETURNING expires_at`;
  if (!row) throw new Error('insert returned no admin session');
  return row;
}

/** Uses up a one-time link: true once, for a link that exists and has not expired. */
export async function consumeAdminLink(sql: Sql, secretHash: Buffer): Promise<boolean> {
  const rows = await sql`
    DELETE FROM admin_sessions WHERE secret_hash = ${secretHash} AND kind = 'link' AND expires_at > now() RETURNING id`;
  return rows.length === 1;
}

export async function findAdminSession(sql: Sql, secretHash: Buffer): Promise<{ expiresAt: Date } | undefined> {
  const [row] = await sql<{ expiresAt: Date }[]>`
    SELECT expires_at FROM admin_sessions WHERE secret_hash = ${secretHash} AND kind = 'session' AND expires_at > now()`;
  return row;
}

export async function deleteAdminSession(sql: Sql, secretHash: Buffer): Promise<void> {
  await sql`DELETE FROM admin_sessions WHERE secret_hash = ${secretHash} AND kind = 'session'`;
}
