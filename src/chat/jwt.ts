import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config/config.js';
import { ensureExternalUser } from '../store/users.js';
import type { Sql } from '../store/db.js';
import type { Authenticated } from './context.js';

export type JwtVerifier = (token: string) => Promise<Authenticated | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

function claims(payload: JWTPayload): { email: string | null; name: string | null } {
  const email = typeof payload.email === 'string' && payload.email.includes('@') ? payload.email : null;
  // Supabase puts the display name in user_metadata.
  const meta = (payload.user_metadata ?? {}) as Record<string, unknown>;
  const name = [payload.name, meta.full_name, meta.name].find((v): v is string => typeof v === 'string' && v.length > 0) ?? null;
  return { email, name };
}

/**
 * Accepts JWTs (a Supabase access token, for one) as bearer credentials when AUTH_JWT_SECRET (HS256) or
 * AUTH_JWKS_URL is set. `sub` is the user id; a user seen for the first time is created.
 */
export function createJwtVerifier(config: Config, sql: Sql): JwtVerifier | undefined {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[] | undefined;
  if (config.authJwtSecret) {
    key = new TextEncoder().encode(config.authJwtSecret);
    algorithms = ['HS256'];
  } else if (config.authJwksUrl) {
    key = createRemoteJWKSet(new URL(config.authJwksUrl));
  } else {
    return undefined;
  }
  return async (token) => {
    let payload: JWTPayload;
    try {
      // jose checks the signature, `exp` and `nbf` (with no leeway).
      ({ payload } = await jwtVerify(token, key as Uint8Array, algorithms ? { algorithms } : {}));
    } catch {
      return undefined;
    }
    if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || payload.exp === undefined) return undefined;
    const user = await ensureExternalUser(sql, { id: payload.sub.toLowerCase(), ...claims(payload) });
    return {
      caller: { id: user.id, email: user.email ?? '', name: user.name },
      credential: { kind: 'jwt', expiresAt: new Date(payload.exp * 1000) },
    };
  };
}
