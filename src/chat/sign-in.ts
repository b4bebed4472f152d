import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { hitWindows, unhitWindow } from '../store/rate-limits.js';
import { createSession, deleteSession, findSessionUser } from '../store/sessions.js';
import { claimSignInAttempt, forgetSignInFailures, pruneSignInFailures, type PairDelays } from '../store/sign-in-failures.js';
import { findPasswordHash } from '../store/users.js';
import { hashToken } from './accounts.js';
import { credentialKey } from './access-watch.js';
import { addressKey } from './address-key.js';
import type { Authenticated, ChatContext } from './context.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const SESSION_TTL_MS = 14 * 24 * 3_600_000;

/**
 * Failed sign-ins slow down the pair (account, address) that fails, as OWASP advises, rather than locking the
 * account: whoever guesses from one address cannot keep its owner out from another. The first two failures of a
 * pair cost nothing; after the third it waits 1 s, then 2 s, 4 s... up to 5 minutes. A pair is forgotten when it
 * signs in, or a day after its last failure.
 */
export const PAIR_DELAYS: PairDelays = { freeFailures: 3, maxDelaySeconds: 300, forgetSeconds: 86_400 };
/** And one address may fail at most this many times per 15 minutes, whatever the accounts (spraying). */
export const ADDRESS_LIMIT = { windowSeconds: 15 * 60, limit: 30 } as const;

// Verified against when the email is unknown, so an unknown email costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;

const tooMany = (waitSeconds: number) =>
  new AppError('rate_limited', 'Too many failed sign-ins. Wait a moment and try again.', { headers: { 'Retry-After': String(waitSeconds) } });

export async function signIn(
  ctx: ChatContext,
  input: { email: string; password: string; address: string; previousSession?: string },
): Promise<{ token: string; expiresAt: Date }> {
  const address = addressKey(input.address);
  const pair = { account: input.email.toLowerCase(), address };
  const addressWindow = { key: `login:address:${address}`, windowSeconds: ADDRESS_LIMIT.windowSeconds, limit: ADDRESS_LIMIT.limit };
  // Both counts are taken before the password is checked, each in one statement under a row lock, so that guesses
  // sent in parallel cannot all pass a check made before any of them failed. A right password gives both back.
  const [hit] = await hitWindows(ctx.sql, [addressWindow]);
  if (!hit) throw new Error('no count for the address window');
  // An attempt refused before any password was checked is no failure of this address: its count is given back.
  if (hit.count > hit.limit) {
    await unhitWindow(ctx.sql, addressWindow, hit.resetAt);
    throw tooMany(Math.max(1, Math.ceil((hit.resetAt.getTime() - Date.now()) / 1000)));
  }
  const blocked = await claimSignInAttempt(ctx.sql, pair, PAIR_DELAYS);
  if (blocked) {
    await unhitWindow(ctx.sql, addressWindow, hit.resetAt);
    throw tooMany(blocked.waitSeconds);
  }

  const user = await findPasswordHash(ctx.sql, input.email);
  const ok = user?.passwordHash
    ? await verifyPassword(input.password, user.passwordHash)
    : await verifyPassword(input.password, await (dummyHash ??= hashPassword(randomBytes(16).toString('hex')))).then(() => false);
  if (!ok || !user) {
    await pruneSignInFailures(ctx.sql, PAIR_DELAYS.forgetSeconds);
    throw new AppError('unauthorized', 'Wrong email or password.');
  }
  await forgetSignInFailures(ctx.sql, pair);
  await unhitWindow(ctx.sql, addressWindow, hit.resetAt);
  // Said only to whoever knows the password: to anyone else a disabled account is a wrong pair like any other.
  if (user.disabled) throw new AppError('unauthorized', 'This account has been disabled. Ask your administrator.');
  return startSession(ctx, user.id, input.previousSession);
}

/** A new session for a user who has just proved who they are; the session the browser held before is ended. */
export async function startSession(ctx: ChatContext, userId: string, previousSession?: string): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const session = await createSession(ctx.sql, {
    userId,
    tokenHash: hashToken(token),
    ttlMs: SESSION_TTL_MS,
    replacingHash: previousSession ? hashToken(previousSession) : undefined,
  });
  // The session it replaced ends now on every instance, as a signing out does: its streams, and any memory of it.
  if (session.replacedId) ctx.bus.publishCredentialEnded(credentialKey({ kind: 'session', id: session.replacedId }));
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
    caller: { id: user.id, email: user.email, name: user.name },
    credential: { kind: 'session', id: user.sessionId, expiresAt: user.expiresAt },
  };
}
