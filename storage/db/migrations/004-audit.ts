/**
 * The audit chain: append-only events, each carrying the previous event's hash, and signed
 * checkpoints. `audit_head` is one row holding the chain's tip; every append locks it FOR UPDATE
 * in its transaction, so appends from any number of processes line up into one chain (seq and
 * prev_hash are taken from the head while it is locked, never from a sequence or max(seq)).
 */
export default /* sql */ `
CREATE TABLE audit_events (
  seq         bigint PRIMARY KEY CHECK (seq >= 1),
  time        timestamptz NOT NULL,
  actor       text NOT NULL,
  agency      text NOT NULL,
  action      text NOT NULL,
  target_type text NOT NULL,
  target_id   text NOT NULL,
  case_id     uuid,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash   text NOT NULL,
  hash        text NOT NULL
);
CREATE INDEX audit_events_case_idx ON audit_events (case_id, seq) WHERE case_id IS NOT NULL;
CREATE INDEX audit_events_agency_idx ON audit_events (agency, seq) WHERE case_id IS NULL;

CREATE TABLE audit_head (
  id   integer PRIMARY KEY CHECK (id = 1),
  seq  bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- A JWS (EdDSA, the evidence key ring) over the canonical JSON { v, seq, hash, time }.
CREATE TABLE audit_checkpoints (
  seq  bigint PRIMARY KEY,
  time timestamptz NOT NULL,
  hash text NOT NULL,
  jws  text NOT NULL
);
`;
