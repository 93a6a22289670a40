/**
 * Identities from elsewhere. A browser session may belong to a user of the agency's OpenID
 * provider, who has no local account: such a session carries its own agency and roles (mapped
 * from the provider's claims at sign-in) and the issuer that vouched for them. A sign-in under
 * way waits in oidc_logins (single use). Machine clients the gateway issues tokens to are
 * registered with their public keys only (private_key_jwt), and each client assertion's jti is
 * kept until it expires, so that none is accepted twice.
 */
export default /* sql */ `
ALTER TABLE sessions DROP CONSTRAINT IF EXISTS sessions_user_id_fkey;
ALTER TABLE sessions ADD COLUMN issuer text, ADD COLUMN agency text, ADD COLUMN roles text[];
ALTER TABLE sessions ADD CONSTRAINT sessions_federated_whole
  CHECK ((issuer IS NULL AND agency IS NULL AND roles IS NULL) OR (issuer IS NOT NULL AND agency IS NOT NULL AND cardinality(roles) >= 1));

CREATE TABLE oidc_logins (
  state         text PRIMARY KEY,
  -- SHA-256 of the random value in the browser's sign-in cookie: the callback must come from the
  -- browser that set out, or a stranger's code could sign this browser in (login CSRF)
  binding_hash  text NOT NULL,
  nonce         text NOT NULL,
  code_verifier text NOT NULL,
  return_to     text NOT NULL,
  expires_at    timestamptz NOT NULL
);

CREATE TABLE oauth_clients (
  client_id   text PRIMARY KEY,
  agency      text NOT NULL,
  roles       text[] NOT NULL CHECK (cardinality(roles) >= 1),
  jwks        jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  disabled_at timestamptz
);

CREATE TABLE oauth_assertions (
  client_id  text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertions_expiry_idx ON oauth_assertions (expires_at);
`;
