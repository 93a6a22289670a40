/** Signed download links: one row per issued link token (id = the token's jti). */
export default /* sql */ `
CREATE TABLE links (
  id              text PRIMARY KEY,
  dossier_id      text NOT NULL REFERENCES dossiers (id),
  case_id         uuid NOT NULL REFERENCES cases (id),
  audience_agency text NOT NULL,
  scope           text NOT NULL CHECK (scope IN ('export')),
  created_by      text NOT NULL,
  created_agency  text NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  single_use      boolean NOT NULL DEFAULT false,
  -- the first use; a single-use link is spent once it is set
  used_at         timestamptz,
  uses            integer NOT NULL DEFAULT 0,
  revoked_at      timestamptz,
  revoked_by      text,
  CHECK (expires_at > created_at),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX links_dossier_idx ON links (dossier_id);
CREATE INDEX links_created_agency_idx ON links (created_agency, created_at);
`;
