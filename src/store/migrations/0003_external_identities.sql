-- People signed in by a JWT are keyed by (issuer, subject), each mapped to a user id of our own: a `sub` is only
-- unique within its issuer, and it must never select a user created here (an admin-created or password user).
-- issuer: the token's `iss` ('' for a token without one). NULL: an identity recorded before issuers were, whose
-- issuer is not known; the first accepted token with that subject takes it over (src/store/identities.ts).
CREATE TABLE "external_identities" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"issuer" text,
	"subject" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "external_identities_issuer_subject_key" UNIQUE NULLS NOT DISTINCT ("issuer","subject")
);
--> statement-breakpoint
ALTER TABLE "external_identities" ADD CONSTRAINT "external_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Users a JWT created before this migration have id = sub and keep it, so they keep their reports and messages.
-- They are told apart from local users by what every local user has: a password, or the API token created in the
-- same transaction as the user (createUserWithToken; one transaction, so both rows carry the same now()). A
-- password-less local user whose first token was revoked cannot be told apart and is recorded here too.
INSERT INTO "external_identities" ("user_id", "issuer", "subject")
SELECT u.id, NULL, u.id::text
FROM "users" u
WHERE u.password_hash IS NULL
  AND NOT EXISTS (SELECT 1 FROM "api_tokens" t WHERE t.user_id = u.id AND t.created_at = u.created_at);
