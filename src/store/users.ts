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

/** The token's user, and the token's id (open streams end when that token is revoked). None for a disabled user. */
export async function findUserByTokenHash(
  sql: Sql,
  tokenHash: Buffer,
): Promise<(UserRow & { tokenId: string; tokenLastUsedAt: Date | null }) | undefined> {
  const [row] = await sql<(UserRow & { tokenId: string; tokenLastUsedAt: Date | null })[]>`
    SELECT u.id, u.email, u.name, u.created_at, t.id AS token_id, t.last_used_at AS token_last_used_at
    FROM api_tokens t JOIN users u ON u.id = t.user_id
    WHERE t.token_hash = ${tokenHash} AND u.disabled_at IS NULL`;
  return row;
}

/**
 * Records that a token was used, at most once a minute: the condition makes a second update within the minute (from
 * this instance or another) write nothing.
 */
export async function touchApiToken(sql: Sql, tokenId: string): Promise<void> {
  await sql`
    UPDATE api_tokens SET last_used_at = now()
    WHERE id = ${tokenId} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`;
}

export interface TokenSummary {
  id: string;
  name: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export async function listApiTokens(sql: Sql, userId: string): Promise<TokenSummary[]> {
  return sql<TokenSummary[]>`
    SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = ${userId} ORDER BY created_at DESC, id`;
}

export async function deleteApiToken(sql: Sql, tokenId: string, userId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM api_tokens WHERE id = ${tokenId} AND user_id = ${userId} RETURNING id`;
  return rows.length === 1;
}

export async function findPasswordHash(
  sql: Sql,
  email: string,
): Promise<{ id: string; passwordHash: string | null; disabled: boolean } | undefined> {
  const [row] = await sql<{ id: string; passwordHash: string | null; disabled: boolean }[]>`
    SELECT id, password_hash, disabled_at IS NOT NULL AS disabled FROM users WHERE lower(email) = lower(${email})`;
  return row;
}

/** A user as the account and admin pages show it. */
export interface AccountRow extends UserRow {
  hasPassword: boolean;
  disabled: boolean;
}

const ACCOUNT_COLUMNS = (sql: Sql) =>
  sql`id, email, name, created_at, password_hash IS NOT NULL AS has_password, disabled_at IS NOT NULL AS disabled`;

export async function findAccount(sql: Sql, userId: string): Promise<AccountRow | undefined> {
  const [row] = await sql<AccountRow[]>`SELECT ${ACCOUNT_COLUMNS(sql)} FROM users WHERE id = ${userId}`;
  return row;
}

export async function findAccountByEmail(sql: Sql, email: string): Promise<AccountRow | undefined> {
  const [row] = await sql<AccountRow[]>`SELECT ${ACCOUNT_COLUMNS(sql)} FROM users WHERE lower(email) = lower(${email})`;
  return row;
}

/** Every user, newest first: the admin page's list. */
export async function listAccounts(sql: Sql, limit = 5000): Promise<AccountRow[]> {
  return sql<AccountRow[]>`SELECT ${ACCOUNT_COLUMNS(sql)} FROM users ORDER BY created_at DESC, id LIMIT ${limit}`;
}

/** The password hash of a user (null when they have none), or undefined when there is no such enabled user. */
export async function findPasswordHashById(sql: Sql, userId: string): Promise<{ passwordHash: string | null } | undefined> {
  const [row] = await sql<{ passwordHash: string | null }[]>`
    SELECT password_hash FROM users WHERE id = ${userId} AND disabled_at IS NULL`;
  return row;
}

/**
 * Sets a new password while the old hash is still `expected` (null: the user had none), and signs out every other
 * session of the user, in one transaction. The ended sessions' ids (their streams end too), or undefined when the
 * password changed meanwhile.
 */
export async function changePasswordHash(
  sql: Sql,
  input: { userId: string; expected: string | null; next: string; keepSessionId: string | null },
): Promise<string[] | undefined> {
  return sql.begin(async (tx) => {
    const changed = await tx`
      UPDATE users SET password_hash = ${input.next}
      WHERE id = ${input.userId} AND password_hash IS NOT DISTINCT FROM ${input.expected} AND disabled_at IS NULL
      RETURNING id`;
    if (changed.length !== 1) return undefined;
    const ended = await tx<{ id: string }[]>`
      DELETE FROM sessions WHERE user_id = ${input.userId} AND id IS DISTINCT FROM ${input.keepSessionId} RETURNING id`;
    return ended.map((s) => s.id);
  });
}

/**
 * Disables a user and deletes their sessions, API tokens and invites, in one transaction: what they wrote stays.
 * The ended credentials' ids, so their open streams can be ended at once; undefined when there is no such user.
 */
export async function disableAccount(sql: Sql, userId: string): Promise<{ sessionIds: string[]; tokenIds: string[] } | undefined> {
  return sql.begin(async (tx) => {
    const found = await tx`UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE id = ${userId} RETURNING id`;
    if (found.length !== 1) return undefined;
    const sessions = await tx<{ id: string }[]>`DELETE FROM sessions WHERE user_id = ${userId} RETURNING id`;
    const tokens = await tx<{ id: string }[]>`DELETE FROM api_tokens WHERE user_id = ${userId} RETURNING id`;
    await tx`DELETE FROM invites WHERE user_id = ${userId}`;
    return { sessionIds: sessions.map((s) => s.id), tokenIds: tokens.map((t) => t.id) };
  });
}

export async function enableAccount(sql: Sql, userId: string): Promise<boolean> {
  const rows = await sql`UPDATE users SET disabled_at = NULL WHERE id = ${userId} RETURNING id`;
  return rows.length === 1;
}

export async function findUserById(sql: Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`SELECT id, email, name, created_at FROM users WHERE id = ${id}`;
  return row;
}
