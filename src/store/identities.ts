import type { Sql } from './db.js';
import { sqlState } from './pg-errors.js';
import type { UserRow } from './types.js';

export interface ExternalIdentity {
  /** The token's `iss`; '' for a token without one. */
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
}

/** Another request created or took over this identity between our read and our write: read it again. */
class IdentityTaken extends Error {}

const ATTEMPTS = 5;

/**
 * The user an external identity (a JWT's issuer and subject) maps to, created on first sight with a new random id:
 * never a local user, whatever the subject says. An identity recorded before issuers were (issuer NULL, see
 * migration 0003) is taken over by the first accepted token with its subject, so its user keeps their data.
 *
 * The new user keeps the token's email only if no other user has it: an email is not proof of identity across
 * issuers. Two first sights with one email at once: the unique index on lower(email) decides, and the second user
 * is created without one instead of failing.
 */
/** The user, `disabled` when the administrator disabled them (the caller refuses them). */
export async function ensureExternalUser(sql: Sql, identity: ExternalIdentity): Promise<ExternalUser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin((tx) => findOrCreate(tx as unknown as Sql, identity));
    } catch (err) {
      // 23505: a concurrent takeover of the NULL-issuer identity stored (issuer, subject) first.
      const raced = err instanceof IdentityTaken || sqlState(err) === '23505';
      if (!raced || attempt >= ATTEMPTS) throw err;
    }
  }
}

type ExternalUser = UserRow & { disabled?: boolean };

async function findOrCreate(tx: Sql, identity: ExternalIdentity): Promise<ExternalUser> {
  const { issuer, subject } = identity;
  const [known] = await tx<ExternalUser[]>`
    SELECT u.id, u.email, u.name, u.created_at, u.disabled_at IS NOT NULL AS disabled
    FROM external_identities i JOIN users u ON u.id = i.user_id
    WHERE i.issuer = ${issuer} AND i.subject = ${subject}`;
  if (known) return known;
  const [adopted] = await tx<ExternalUser[]>`
    WITH taken AS (
      UPDATE external_identities SET issuer = ${issuer} WHERE issuer IS NULL AND subject = ${subject} RETURNING user_id)
    SELECT u.id, u.email, u.name, u.created_at, u.disabled_at IS NOT NULL AS disabled FROM taken JOIN users u ON u.id = taken.user_id`;
  if (adopted) return adopted;
  // ON CONFLICT waits for a concurrent insert of the same email and, once it commits, inserts nothing.
  let [user] = await tx<UserRow[]>`
    INSERT INTO users (email, name) VALUES (${identity.email}, ${identity.name})
    ON CONFLICT ((lower(email))) DO NOTHING
    RETURNING id, email, name, created_at`;
  user ??= (
    await tx<UserRow[]>`INSERT INTO users (email, name) VALUES (NULL, ${identity.name}) RETURNING id, email, name, created_at`
  )[0];
  if (!user) throw new Error('insert returned no user');
  const [linked] = await tx`
    INSERT INTO external_identities (user_id, issuer, subject) VALUES (${user.id}, ${issuer}, ${subject})
    ON CONFLICT ON CONSTRAINT external_identities_issuer_subject_key DO NOTHING
    RETURNING user_id`;
  // The same identity seen for the first time by another request, which committed first: roll back our user.
  if (!linked) throw new IdentityTaken();
  return user;
}
