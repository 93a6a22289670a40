/** Cases, dossiers, pages and the job queue. */
export default /* sql */ `
CREATE TABLE cases (
  id          uuid PRIMARY KEY,
  number      text NOT NULL,
  title       text NOT NULL DEFAULT '',
  agency_id   text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (agency_id, number)
);

CREATE TABLE dossiers (
  id              text PRIMARY KEY,
  case_id         uuid NOT NULL REFERENCES cases (id),
  agency_id       text NOT NULL,
  uploaded_by     text NOT NULL,
  filename        text NOT NULL,
  title           text,
  status          text NOT NULL CHECK (status IN ('receiving', 'processing', 'sealed', 'rejected')),
  declared_bytes  bigint,
  bytes           bigint,
  sha256          text,
  media_type      text,
  page_count      integer,
  pages_done      integer NOT NULL DEFAULT 0,
  thumbnails_done integer NOT NULL DEFAULT 0,
  merkle_root     text,
  manifest_jws    text,
  kid             text,
  sealed_at       timestamptz,
  error_code      text,
  error_message   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossiers_case_idx ON dossiers (case_id);

CREATE TABLE pages (
  dossier_id       text NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
  index            integer NOT NULL CHECK (index >= 1),
  sha256           text NOT NULL,
  size             bigint NOT NULL,
  media_type       text NOT NULL,
  width            integer,
  height           integer,
  source_name      text NOT NULL,
  signature        text NOT NULL,
  thumbnail_sha256 text,
  PRIMARY KEY (dossier_id, index)
);

-- A durable job queue: leased with FOR UPDATE SKIP LOCKED, retried with backoff; a lease that
-- runs out (its worker died) makes the job visible again.
CREATE TABLE jobs (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL,
  key           text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL DEFAULT 5,
  run_at        timestamptz NOT NULL DEFAULT now(),
  locked_by     text,
  locked_until  timestamptz,
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  UNIQUE (kind, key)
);
CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status IN ('queued', 'running');
`;
