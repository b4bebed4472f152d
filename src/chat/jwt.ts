import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { Config } from '../config/config.js';
import { ensureExternalUser } from '../store/identities.js';
import type { Sql } from '../store/db.js';
import type { Authenticated } from './context.js';

export type JwtVerifier = (token: string) => Promise<Authenticated | undefined>;

export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

// OpenID Connect caps `sub` at 255 ASCII characters.
const MAX_SUBJECT_LENGTH = 255;

function claims(payload: JWTPayload): { email: string | null; name: string | null } {
  const email = typeof payload.email === 'string' && payload.email.includes('@') ? payload.email : null;
  // Supabase puts the display name in user_metadata.
  const meta = (payload.user_metadata ?? {}) as Record<string, unknown>;
  const name = [payload.name, meta.full_name, meta.name].find((v): v is string => typeof v === 'string' && v.length > 0) ?? null;
  return { email, name };
}

/**
 * How long the token was made to live. Measured from `iat`, or from now when it has none or claims to be issued
 * in the future: a token issued "next century" with an hour to live is a century-long token.
 */
function lifetimeSeconds(payload: JWTPayload & { exp: number }): number {
  const now = Math.floor(Date.now() / 1000);
  const from = typeof payload.iat === 'number' ? Math.min(payload.iat, now) : now;
  return payload.exp - from;
}

/**
 * Accepts JWTs (a Supabase access token, for one) as bearer credentials when AUTH_JWT_SECRET (HS256) or
 * AUTH_JWKS_URL is set. The person is (issuer, subject): `iss` and `sub`, mapped to a user of our own, created on
 * first sight (src/store/identities.ts); `sub` is never taken as one of our user ids. `iss` and `aud` are checked
 * when AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE are set; a token made to live longer than AUTH_JWT_MAX_AGE_S is refused.
 */
export function createJwtVerifier(config: Config, sql: Sql): JwtVerifier | undefined {
  let key: Uint8Array | JWTVerifyGetKey;
  const options: JWTVerifyOptions = { requiredClaims: ['exp', 'sub'] };
  if (config.authJwtIssuer) options.issuer = config.authJwtIssuer;
  if (config.authJwtAudience) options.audience = config.authJwtAudience;
  if (config.authJwtSecret) {
    key = new TextEncoder().encode(config.authJwtSecret);
    options.algorithms = ['HS256'];
  } else if (config.authJwksUrl) {
    key = createRemoteJWKSet(new URL(config.authJwksUrl));
  } else {
    return undefined;
  }
  return async (token) => {
    let payload: JWTPayload;
    try {
      // jose checks the signature, `exp` and `nbf` (with no leeway), and `iss` and `aud` when asked to.
      ({ payload } = await jwtVerify(token, key as Uint8Array, options));
    } catch {
      return undefined;
    }
    const { sub, exp, iss } = payload;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH || typeof exp !== 'number') return undefined;
    if (iss !== undefined && typeof iss !== 'string') return undefined;
    if (lifetimeSeconds({ ...payload, exp }) > config.authJwtMaxAgeS) return undefined;
    const user = await ensureExternalUser(sql, { issuer: iss ?? '', subject: sub, ...claims(payload) });
    if (user.disabled) return undefined;
    return {
      caller: { id: user.id, email: user.email, name: user.name },
      credential: { kind: 'jwt', expiresAt: new Date(exp * 1000) },
    };
  };
}
