import { AppError } from '../errors/app-error.js';
import { hitWindows } from '../store/rate-limits.js';
import { changePasswordHash, findAccount, findPasswordHashById, listApiTokens } from '../store/users.js';
import { credentialKey } from './access-watch.js';
import type { Caller, ChatContext, Credential } from './context.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Checks of the current password one user may ask for per 15 minutes: a stolen session cannot guess it at leisure. */
export const PASSWORD_CHECK_LIMIT = { windowSeconds: 15 * 60, limit: 10 } as const;

/** The caller's account: who they are, how this request signed in, whether they have a password. */
export async function describeAccount(ctx: ChatContext, caller: Caller, credential: Credential) {
  const account = await findAccount(ctx.sql, caller.id);
  return {
    user: { id: caller.id, email: caller.email, name: caller.name },
    signedInWith: credential.kind,
    hasPassword: account?.hasPassword ?? false,
  };
}

export async function listTokens(ctx: ChatContext, caller: Caller) {
  const tokens = await listApiTokens(ctx.sql, caller.id);
  return tokens.map((t) => ({
    id: t.id,
    name: t.name,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  }));
}

/**
 * Changes the caller's password. The current one is required when they have one (a user who signs in only with
 * tokens or a JWT may set a first one). Every other session of theirs is signed out, and its open streams end, on
 * every instance; the session making the change stays, and API tokens are not touched.
 */
export async function changePassword(
  ctx: ChatContext,
  caller: Caller,
  credential: Credential,
  input: { currentPassword?: string; newPassword: string },
): Promise<void> {
  const stored = await findPasswordHashById(ctx.sql, caller.id);
  if (!stored) throw new AppError('unauthorized', 'These credentials are not valid.');
  if (stored.passwordHash !== null) {
    if (input.currentPassword === undefined) throw new AppError('invalid_request', 'currentPassword: your current password is required.');
    const [hit] = await hitWindows(ctx.sql, [{ key: `password-check:${caller.id}`, ...PASSWORD_CHECK_LIMIT }]);
    if (hit && hit.count > hit.limit) {
      const wait = Math.max(1, Math.ceil((hit.resetAt.getTime() - Date.now()) / 1000));
      throw new AppError('rate_limited', 'Too many attempts. Wait a while and try again.', { headers: { 'Retry-After': String(wait) } });
    }
    if (!(await verifyPassword(input.currentPassword, stored.passwordHash))) {
      throw new AppError('forbidden', 'The current password is not right.');
    }
  }
  const ended = await changePasswordHash(ctx.sql, {
    userId: caller.id,
    expected: stored.passwordHash,
    next: await hashPassword(input.newPassword),
    keepSessionId: credential.kind === 'session' ? credential.id : null,
  });
  if (!ended) throw new AppError('precondition_failed', 'Your password was changed meanwhile; try again.');
  for (const id of ended) ctx.bus.publishCredentialEnded(credentialKey({ kind: 'session', id }));
}
