import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { sqlState } from '../store/pg-errors.js';
import { createApiTokenCapped, createUserWithApiToken, deleteApiToken, findUserByTokenHash, touchApiToken } from '../store/users.js';
import type { Sql } from '../store/db.js';
import { credentialKey } from './access-watch.js';
import type { Authenticated, Caller, ChatContext } from './context.js';

/** `rc_` + 43 base64url characters (32 random bytes). Only the SHA-256 is stored. */
export function newToken(): string {
  return `rc_${randomBytes(32).toString('base64url')}`;
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

export const TOKEN_PATTERN = /^rc_[A-Za-z0-9_-]{43}$/;

/** Compares secrets in constant time (of their hashes, so lengths leak nothing either). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(hashToken(a), hashToken(b));
}

/** How long a token's last use may go unrecorded: its "last used" is written at most this often, not per request. */
export const TOKEN_USE_RESOLUTION_MS = 60_000;

export async function authenticateToken(sql: Sql, token: string): Promise<Authenticated | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const user = await findUserByTokenHash(sql, hashToken(token));
  if (!user) return undefined;
  const last = user.tokenLastUsedAt?.getTime();
  if (last === undefined || Date.now() - last >= TOKEN_USE_RESOLUTION_MS) {
    // Not awaited, and a failure only leaves "last used" a little older: the request does not wait for bookkeeping.
    touchApiToken(sql, user.tokenId).catch(() => {});
  }
  return { caller: { id: user.id, email: user.email, name: user.name }, credential: { kind: 'token', id: user.tokenId } };
}

export async function createUserWithToken(sql: Sql, input: { email: string; name?: string; passwordHash?: string }) {
  const token = newToken();
  try {
    const user = await createUserWithApiToken(
      sql,
      { email: input.email, name: input.name ?? null, passwordHash: input.passwordHash ?? null },
      { name: 'initial', tokenHash: hashToken(token) },
    );
    return { user: { id: user.id, email: user.email, name: user.name }, token };
  } catch (err) {
    // The unique index on lower(email) decides, not a check in code that could race.
    if (sqlState(err) === '23505') throw new AppError('invalid_request', 'A user with this email already exists.', { cause: err });
    throw err;
  }
}

/** API tokens one user may hold: a stolen session cannot mint tokens without end, nor fill the table. */
export const MAX_TOKENS_PER_USER = 50;

export async function issueToken(sql: Sql, caller: Caller, name: string | null) {
  const token = newToken();
  const created = await createApiTokenCapped(sql, { userId: caller.id, name, tokenHash: hashToken(token), max: MAX_TOKENS_PER_USER });
  if (!created) {
    throw new AppError('token_limit', `You already have ${MAX_TOKENS_PER_USER} API tokens, the most a user may hold. Revoke one first.`);
  }
  return { id: created.id, token };
}

export async function revokeToken(ctx: ChatContext, caller: Caller, tokenId: string): Promise<void> {
  if (!(await deleteApiToken(ctx.sql, tokenId, caller.id))) throw new AppError('not_found', 'No such token.');
  // The streams the token opened end now, on every instance, not at their next access check.
  ctx.bus.publishCredentialEnded(credentialKey({ kind: 'token', id: tokenId }));
}
