import type { Sql } from './db.js';
import type { UserRow } from './types.js';

export async function createUser(
  sql: Sql,
  input: { email: string; name: string | null; passwordHash: string | null },
): Promise<UserRow> {
  const [row] = await sql<UserRow[]>`
    INSERT INTO users (email, name, password_hash) VALUES (${input.email}, ${input.name}, ${input.passwordHash})
    RETURNING id, email, name, created_at`;
  if (!row) throw new Error('insert returned no user');
  return row;
}

export async function findUserByEmail(sql: Sql, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`SELECT id, email, name, created_at FROM users WHERE lower(email) = lower(${email})`;
  return row;
}

/** Stores only the token's SHA-256: a leaked table does not leak credentials. */
export async function createApiToken(
  sql: Sql,
  input: { userId: string; name: string | null; tokenHash: Buffer },
): Promise<{ id: string }> {
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO api_tokens (user_id, name, token_hash) VALUES (${input.userId}, ${input.name}, ${input.tokenHash})
    RETURNING id`;
  if (!row) throw new Error('insert returned no token');
  return row;
}

/** A user and its first API token, in one transaction: a user is never left without the token it was created for. */
export async function createUserWithApiToken(
  sql: Sql,
  user: { email: string; name: string | null; passwordHash: string | null },
  token: { name: string | null; tokenHash: Buffer },
): Promise<UserRow> {
  return sql.begin(async (tx) => {
    const created = await createUser(tx as unknown as Sql, user);
    await createApiToken(tx as unknown as Sql, { userId: created.id, ...token });
    return created;
  });
}

/**
 * Creates a token unless the user already holds `max`, in one transaction: the lock on the user's row makes one
 * user's concurrent creations count one after another, so two at `max - 1` cannot both pass the count. (It is a
 * NO KEY UPDATE lock: inserts that only reference the user, its sessions or reports, do not wait for it.)
 * Undefined when the user is at the cap.
 */
export async function createApiTokenCapped(
  sql: Sql,
  input: { userId: string; name: string | null; tokenHash: Buffer; max: number },
): Promise<{ id: string } | undefined> {
  return sql.begin(async (tx) => {
    await tx`SELECT 1 FROM users WHERE id = ${input.userId} FOR NO KEY UPDATE`;
    const [row] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM api_tokens WHERE user_id = ${input.userId}`;
    if ((row?.n ?? 0) >= input.max) return undefined;
    return createApiToken(tx as unknown as Sql, input);
  });
}

/** The token's user, and the token's id (open streams end when that token is revoked). */
export async function findUserByTokenHash(sql: Sql, tokenHash: Buffer): Promise<(UserRow & { tokenId: string }) | undefined> {
  const [row] = await sql<(UserRow & { tokenId: string })[]>`
    SELECT u.id, u.email, u.name, u.created_at, t.id AS token_id
    FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ${tokenHash}`;
  return row;
}

export async function deleteApiToken(sql: Sql, tokenId: string, userId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM api_tokens WHERE id = ${tokenId} AND user_id = ${userId} RETURNING id`;
  return rows.length === 1;
}

export async function findPasswordHash(sql: Sql, email: string): Promise<{ id: string; passwordHash: string | null } | undefined> {
  const [row] = await sql<{ id: string; passwordHash: string | null }[]>`
    SELECT id, password_hash FROM users WHERE lower(email) = lower(${email})`;
  return row;
}

export async function findUserById(sql: Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`SELECT id, email, name, created_at FROM users WHERE id = ${id}`;
  return row;
}
