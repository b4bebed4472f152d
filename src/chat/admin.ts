import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { consumeAdminLink, createAdminSecret, deleteAdminSession, findAdminSession } from '../store/admin-sessions.js';
import { acceptInvite as acceptStoredInvite, createInvite } from '../store/invites.js';
import { hitWindows, unhitWindow } from '../store/rate-limits.js';
import type { Sql } from '../store/db.js';
import { disableAccount, enableAccount, findAccount, listAccounts, type AccountRow } from '../store/users.js';
import { hashToken } from './accounts.js';
import { credentialKey } from './access-watch.js';
import { addressKey } from './address-key.js';
import type { EventBus } from './bus.js';
import type { ChatContext } from './context.js';
import { hashPassword } from './passwords.js';
import { startSession } from './sign-in.js';

/** The admin page's session: a working day. The one-time link the command line prints: ten minutes. */
export const ADMIN_SESSION_TTL_MS = 8 * 3_600_000;
export const ADMIN_LINK_TTL_MS = 10 * 60_000;
/** An invite link: a week. */
export const INVITE_TTL_MS = 7 * 24 * 3_600_000;
/** Failed admin sign-ins per address per 15 minutes. */
export const ADMIN_SIGN_IN_LIMIT = { windowSeconds: 15 * 60, limit: 10 } as const;

const secret = () => randomBytes(32).toString('base64url');
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function toAdminUser(u: AccountRow) {
  return { id: u.id, email: u.email, name: u.name, createdAt: u.createdAt.toISOString(), hasPassword: u.hasPassword, disabled: u.disabled };
}

/** A one-time sign-in link for the admin page (the command line prints it): its secret and end. */
export async function createAdminLink(sql: Sql): Promise<{ code: string; expiresAt: Date }> {
  const code = secret();
  const { expiresAt } = await createAdminSecret(sql, { kind: 'link', secretHash: hashToken(code), ttlMs: ADMIN_LINK_TTL_MS });
  return { code, expiresAt };
}

/**
 * Signs the administrator in to the admin page with the admin token or a one-time link's code: a new admin session
 * (its secret goes into an HttpOnly cookie). Failures are counted per address, as for people's sign-ins.
 */
export async function adminSignIn(
  ctx: ChatContext,
  adminTokenHash: Buffer,
  input: { token?: string; code?: string; address: string },
): Promise<{ secret: string; expiresAt: Date }> {
  const window = { key: `admin-login:address:${addressKey(input.address)}`, ...ADMIN_SIGN_IN_LIMIT };
  const [hit] = await hitWindows(ctx.sql, [window]);
  if (hit && hit.count > hit.limit) {
    const wait = Math.max(1, Math.ceil((hit.resetAt.getTime() - Date.now()) / 1000));
    throw new AppError('rate_limited', 'Too many failed attempts. Wait a while and try again.', { headers: { 'Retry-After': String(wait) } });
  }
  const ok =
    input.token !== undefined
      ? timingSafeEqual(hashToken(input.token), adminTokenHash)
      : input.code !== undefined && SECRET_PATTERN.test(input.code) && (await consumeAdminLink(ctx.sql, hashToken(input.code)));
  if (!ok) throw new AppError('unauthorized', input.token !== undefined ? 'That is not the admin token.' : 'This sign-in link is not valid, was used, or has expired.');
  // Only failures count against the address.
  if (hit) await unhitWindow(ctx.sql, window, hit.resetAt);
  const session = secret();
  const { expiresAt } = await createAdminSecret(ctx.sql, { kind: 'session', secretHash: hashToken(session), ttlMs: ADMIN_SESSION_TTL_MS });
  return { secret: session, expiresAt };
}

export async function adminSession(sql: Sql, sessionSecret: string): Promise<{ expiresAt: Date } | undefined> {
  if (!SECRET_PATTERN.test(sessionSecret)) return undefined;
  return findAdminSession(sql, hashToken(sessionSecret));
}

export async function adminSignOut(sql: Sql, sessionSecret: string): Promise<void> {
  if (SECRET_PATTERN.test(sessionSecret)) await deleteAdminSession(sql, hashToken(sessionSecret));
}

export async function listUsers(sql: Sql) {
  return (await listAccounts(sql)).map(toAdminUser);
}

/** A one-use link for a user to choose their password (an earlier link of theirs stops working). */
export async function inviteUser(sql: Sql, userId: string): Promise<{ code: string; expiresAt: string }> {
  const account = await findAccount(sql, userId);
  if (!account) throw new AppError('not_found', 'No such user.');
  if (account.disabled) throw new AppError('invalid_request', 'This user is disabled; enable them first.');
  const code = secret();
  const { expiresAt } = await createInvite(sql, { userId, codeHash: hashToken(code), ttlMs: INVITE_TTL_MS });
  return { code, expiresAt: expiresAt.toISOString() };
}

/** Sets the invited user's password and signs them in: a session, as a sign-in would give. */
export async function acceptInvite(ctx: ChatContext, input: { code: string; password: string; previousSession?: string }) {
  const userId = SECRET_PATTERN.test(input.code) ? await acceptStoredInvite(ctx.sql, hashToken(input.code), await hashPassword(input.password)) : undefined;
  if (!userId) throw new AppError('not_found', 'This invite link is not valid, was used, or has expired. Ask for a new one.');
  return startSession(ctx, userId, input.previousSession);
}

/**
 * Disables a user: no credential of theirs works from now on, their sessions and API tokens are deleted, and their
 * open streams end, on every instance: at once through `bus`, else (the command line, a JWT caller) at the access
 * check, within 5 s. What they wrote stays.
 */
export async function disableUser(sql: Sql, userId: string, bus?: Pick<EventBus, 'publishCredentialEnded'>) {
  const ended = await disableAccount(sql, userId);
  if (!ended) throw new AppError('not_found', 'No such user.');
  for (const id of ended.sessionIds) bus?.publishCredentialEnded(credentialKey({ kind: 'session', id }));
  for (const id of ended.tokenIds) bus?.publishCredentialEnded(credentialKey({ kind: 'token', id }));
  return toAdminUser((await findAccount(sql, userId))!);
}

export async function enableUser(sql: Sql, userId: string) {
  if (!(await enableAccount(sql, userId))) throw new AppError('not_found', 'No such user.');
  return toAdminUser((await findAccount(sql, userId))!);
}
