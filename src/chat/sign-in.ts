import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { hitWindows, peekWindow } from '../store/rate-limits.js';
import { createSession, deleteSession, findSessionUser } from '../store/sessions.js';
import { findPasswordHash } from '../store/users.js';
import { hashToken } from './accounts.js';
import { credentialKey } from './access-watch.js';
import type { Authenticated, ChatContext } from './context.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const SESSION_TTL_MS = 14 * 24 * 3_600_000;
const WINDOW_SECONDS = 15 * 60;
// Failed sign-ins allowed per 15 minutes: per account (guessing one password) and per address (spraying many).
const PER_ACCOUNT = 5;
const PER_ADDRESS = 30;

// Verified against when the email is unknown, so an unknown email costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

export async function signIn(
  ctx: ChatContext,
  input: { email: string; password: string; address: string; previousSession?: string },
): Promise<{ token: string; expiresAt: Date }> {
  const keys = [
    { key: `login:account:${input.email.toLowerCase()}`, windowSeconds: WINDOW_SECONDS, limit: PER_ACCOUNT },
    { key: `login:address:${input.address}`, windowSeconds: WINDOW_SECONDS, limit: PER_ADDRESS },
  ];
  for (const k of keys) {
    const { count, resetAt } = await peekWindow(ctx.sql, k);
    if (count >= k.limit) {
      const wait = Math.max(1, Math.ceil((resetAt.getTime() - Date.now()) / 1000));
      throw new AppError('rate_limited', 'Too many failed sign-ins. Wait a few minutes and try again.', { headers: { 'Retry-After': String(wait) } });
    }
  }
  const user = await findPasswordHash(ctx.sql, input.email);
  const ok = user?.passwordHash
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await (dummyHash ??= hashPassword(randomBytes(16).toString('hex')))).then(() => false);
  if (!ok || !user) {
    await hitWindows(ctx.sql, keys);
    throw new AppError('unauthorized', 'Wrong email or password.');
  }
  const token = randomBytes(32).toString('base64url');
  const session = await createSession(ctx.sql, {
    userId: user.id,
    tokenHash: hashToken(token),
    ttlMs: SESSION_TTL_MS,
    replacingHash: input.previousSession ? hashToken(input.previousSession) : undefined,
  });
  return { token, expiresAt: session.expiresAt };
}

export async function signOut(ctx: ChatContext, sessionToken: string): Promise<void> {
  const sessionId = await deleteSession(ctx.sql, hashToken(sessionToken));
  // The streams the session opened end now, on every instance, not at their next access check.
  if (sessionId) ctx.bus.publishCredentialEnded(credentialKey({ kind: 'session', id: sessionId }));
}

export async function sessionCaller(ctx: ChatContext, sessionToken: string): Promise<Authenticated | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(sessionToken)) return undefined;
  const user = await findSessionUser(ctx.sql, hashToken(sessionToken));
  if (!user) return undefined;
  return {
    caller: { id: user.id, email: user.email ?? '', name: user.name },
    credential: { kind: 'session', id: user.sessionId, expiresAt: user.expiresAt },
  };
}
