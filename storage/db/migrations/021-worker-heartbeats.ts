/**
 * The processes that run jobs, each with a heartbeat a few seconds apart. A running job whose
 * worker stopped beating is taken by another worker within seconds, not after its whole lease.
 */
export default /* sql */ `
CREATE TABLE workers (
  id            text PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  kinds         text[] NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_running_by_worker_idx ON jobs (locked_by) WHERE status = 'running';
-- /metrics counts the pages read in the last minute, by every process.
CREATE INDEX page_text_updated_idx ON page_text (updated_at);
`;
