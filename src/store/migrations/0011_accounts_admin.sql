-- A disabled user can no longer sign in or use any credential; their messages and reports stay.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
--> statement-breakpoint

-- The administrator's sign-ins to the admin page: a one-time link the command line prints (`link`, minutes), which
-- the page exchanges for a session (`session`, hours) kept in an HttpOnly cookie. Only SHA-256 of each secret.
CREATE TABLE admin_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL,
  secret_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CONSTRAINT admin_sessions_kind_check CHECK (kind IN ('link', 'session'))
);
--> statement-breakpoint
CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires_at);
--> statement-breakpoint

-- An invitation to choose a password: the link the admin sends a new user. One use; SHA-256 of its code only.
CREATE TABLE invites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
--> statement-breakpoint
CREATE INDEX invites_user_idx ON invites (user_id);
