/**
 * Local accounts (the embedded default's sign-in) and browser sessions. A session row holds the
 * SHA-256 of the cookie's secret, never the secret: a copy of the database signs nobody in.
 */
export default /* sql */ `
CREATE TABLE accounts (
  user_id         text PRIMARY KEY,
  agency          text NOT NULL,
  roles           text[] NOT NULL CHECK (cardinality(roles) >= 1),
  password_hash   text NOT NULL,
  disabled_at     timestamptz,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until    timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);

CREATE TABLE sessions (
  id_hash      text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES accounts (user_id),
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  -- the absolute expiry; the idle one is last_seen_at + the configured idle time
  expires_at   timestamptz NOT NULL,
  ended_at     timestamptz,
  CHECK (expires_at > created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;
`;
